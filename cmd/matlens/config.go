package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/matlens/matlens/analyze"
	"github.com/matlens/matlens/ingest"
	"github.com/matlens/matlens/ingest/objects"
	"github.com/matlens/matlens/tiering"
)

// config is the effective configuration of a command. It is built in the
// documented precedence: defaults, then the --config file, then the
// environment, then flags (flags are declared with the result of the first
// three as their defaults, so whatever the user types wins).
type config struct {
	DB      string        `yaml:"db"`
	Source  sourceConfig  `yaml:"source"`
	Ingest  ingestConfig  `yaml:"ingest"`
	Analyze analyzeConfig `yaml:"analyze"`
	Tiering tieringConfig `yaml:"tiering"`
	Storage storageConfig `yaml:"storage"`
	Run     runConfig     `yaml:"run"`
	Log     logConfig     `yaml:"log"`
}

// analyzeConfig holds the analyze stage's thresholds and planner settings
// (analyze.Options); the flags of `matlens analyze` have the same names
// with dashes.
type analyzeConfig struct {
	WindowDays        float64 `yaml:"window_days"`
	SpikeSigma        float64 `yaml:"spike_sigma"`
	MinSuccessRate    float64 `yaml:"min_success_rate"`
	RegressionFactor  float64 `yaml:"regression_factor"`
	RegressionWindow  int     `yaml:"regression_window"`
	AvailableMB       float64 `yaml:"available_mb"`
	Concurrent        int     `yaml:"concurrent"`
	PeakHours         float64 `yaml:"peak_hours"`
	RetentionDays     float64 `yaml:"retention_days"`
	MultiNode         bool    `yaml:"multi_node"`
	ComputeUSDPerHour float64 `yaml:"compute_usd_per_hour"`
	// DuckDBMemoryLimit bounds DuckDB's buffer pool while analyze runs.
	DuckDBMemoryLimit string `yaml:"duckdb_memory_limit"`
}

// tieringConfig sets the storage-class recommendation (tiering.Options)
// and the price sheet.
type tieringConfig struct {
	Provider             string            `yaml:"provider"`
	Region               string            `yaml:"region"`
	CurrentClass         string            `yaml:"current_class"`
	CurrentClassByPrefix map[string]string `yaml:"current_class_by_prefix"`
	PaybackMonths        float64           `yaml:"payback_months"`
	MinHistoryDays       float64           `yaml:"min_history_days"`
	AllowArchiveForRead  bool              `yaml:"allow_archive_for_read"`
	HotReadsPerDay       float64           `yaml:"hot_reads_per_day"`
	WarmReadsPerDay      float64           `yaml:"warm_reads_per_day"`
	AllowedClasses       []string          `yaml:"allowed_classes"`
	// PricesFile is a YAML file whose entries override the built-in price
	// sheet, field by field.
	PricesFile string `yaml:"prices_file"`
}

// storageConfig names the object stores to snapshot (objects load and
// run) and how analyze joins assets to their objects.
type storageConfig struct {
	Sources []storageSourceConfig `yaml:"sources"`
	// LocationKeys are the metadata keys an asset's location is read from,
	// in order of preference (analyze.Options.LocationKeys).
	LocationKeys []string `yaml:"location_keys"`
	// OrphanPrefixes are further prefixes under which objects no asset
	// points to are orphans (analyze.Options.OrphanPrefixes).
	OrphanPrefixes []string `yaml:"orphan_prefixes"`
}

// storageSourceConfig is one objects.Source as the config file spells it.
type storageSourceConfig struct {
	Kind      string `yaml:"kind"`
	Location  string `yaml:"location"`
	Endpoint  string `yaml:"endpoint,omitempty"`
	Region    string `yaml:"region,omitempty"`
	Versions  bool   `yaml:"versions,omitempty"`
	PathStyle bool   `yaml:"path_style,omitempty"`
}

// source checks the entry and converts it.
func (s storageSourceConfig) source() (objects.Source, error) {
	kind, err := objects.ParseKind(s.Kind)
	if err != nil {
		return objects.Source{}, err
	}
	src := objects.Source{Kind: kind, Location: s.Location, Endpoint: s.Endpoint, Region: s.Region, Versions: s.Versions, PathStyle: s.PathStyle}
	return src, src.Validate()
}

// storageSources returns the configured object sources, in order.
func (c *config) storageSources() ([]objects.Source, error) {
	var out []objects.Source
	for i, s := range c.Storage.Sources {
		src, err := s.source()
		if err != nil {
			return nil, usagef("config storage.sources[%d]: %v", i, err)
		}
		out = append(out, src)
	}
	return out, nil
}

type sourceConfig struct {
	// PG is Dagster's PostgreSQL DSN.
	PG string `yaml:"pg"`
	// File is a pg_dump or COPY text file of event_logs.
	File string `yaml:"file"`
	// DagsterYAML points at Dagster's own dagster.yaml; its storage section
	// gives the DSN when PG is empty.
	DagsterYAML string `yaml:"dagster_yaml"`
}

type ingestConfig struct {
	BatchRows    int      `yaml:"batch_rows"`
	BatchBytes   int      `yaml:"batch_bytes"`
	RereadWindow int64    `yaml:"reread_window"`
	LockWait     duration `yaml:"lock_wait"`
	// DuckDBMemoryLimit bounds DuckDB's buffer pool during the load.
	DuckDBMemoryLimit string          `yaml:"duckdb_memory_limit"`
	MetadataKeys      *metadataConfig `yaml:"metadata_keys"`
}

// metadataConfig replaces the default metadata-key mapping, field by field.
type metadataConfig struct {
	Size           []sizeKeyConfig `yaml:"size"`
	Rows           []string        `yaml:"rows"`
	ExecutionTimeS []string        `yaml:"execution_time_s"`
	MemoryMB       []string        `yaml:"memory_mb"`
	Location       []string        `yaml:"location"`
}

type sizeKeyConfig struct {
	Key  string `yaml:"key"`
	Unit string `yaml:"unit"`
}

type runConfig struct {
	// MaxRejects is how many rows a run may quarantine and still exit 0;
	// above it the run finishes its work and exits with exitRejects, so a
	// scheduler notices. -1 means any number.
	MaxRejects int64 `yaml:"max_rejects"`
}

type logConfig struct {
	Format string `yaml:"format"`
	Level  string `yaml:"level"`
}

// duration reads "30s" / "2m" in YAML.
type duration time.Duration

func (d *duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration like 30s or 2m", n.Line, n.Value)
	}
	*d = duration(v)
	return nil
}

func (d duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

func defaultConfig() config {
	io := ingest.DefaultOptions()
	to := tiering.DefaultOptions()
	ao := analyze.DefaultOptions()
	return config{
		Analyze: analyzeConfig{
			WindowDays: ao.WindowDays, SpikeSigma: ao.SpikeSigma, MinSuccessRate: ao.MinSuccessRate,
			RegressionFactor: ao.RegressionFactor, RegressionWindow: ao.RegressionWindow,
			AvailableMB: ao.AvailableMemoryMB, Concurrent: ao.Concurrency, PeakHours: ao.PeakHours,
			RetentionDays: ao.RetentionDays, MultiNode: ao.MultiNode, ComputeUSDPerHour: ao.ComputeUSDPerHour,
			DuckDBMemoryLimit: ao.MemoryLimit,
		},
		Ingest: ingestConfig{
			BatchRows: io.BatchRows, BatchBytes: io.BatchBytes, RereadWindow: io.ReReadWindow,
			LockWait: duration(io.LockWait), DuckDBMemoryLimit: io.DuckDBMemoryLimit,
		},
		Tiering: tieringConfig{
			Provider: to.Provider, PaybackMonths: to.PaybackMonths, MinHistoryDays: to.MinHistoryDays,
			HotReadsPerDay: to.HotReadsPerDay, WarmReadsPerDay: to.WarmReadsPerDay,
		},
		Storage: storageConfig{LocationKeys: slices.Clone(analyze.DefaultLocationKeys)},
		Run:     runConfig{MaxRejects: 0},
		Log:     logConfig{Format: "text", Level: "info"},
	}
}

// sizeUnits are the units a size metadata key may be declared in.
var sizeUnits = map[string]float64{
	"bytes": 1, "b": 1, "kb": 1 << 10, "kib": 1 << 10, "mb": 1 << 20, "mib": 1 << 20, "gb": 1 << 30, "gib": 1 << 30,
}

// metadataKeys returns the ingest mapping: the defaults, with each field
// the config file sets replaced.
func (c *config) metadataKeys() (ingest.MetadataKeys, error) {
	keys := ingest.DefaultMetadataKeys()
	m := c.Ingest.MetadataKeys
	if m == nil {
		return keys, nil
	}
	if m.Size != nil {
		keys.Size = nil
		for _, s := range m.Size {
			mult, ok := sizeUnits[strings.ToLower(s.Unit)]
			if !ok || s.Key == "" {
				return keys, usagef("config ingest.metadata_keys.size: key %q has unit %q; want a key and one of bytes, KiB, MiB, GiB", s.Key, s.Unit)
			}
			keys.Size = append(keys.Size, ingest.SizeKey{Key: s.Key, BytesPerUnit: mult})
		}
	}
	for _, f := range []struct {
		src []string
		dst *[]string
	}{{m.Rows, &keys.Rows}, {m.ExecutionTimeS, &keys.ExecTimeS}, {m.MemoryMB, &keys.MemoryMB}, {m.Location, &keys.Location}} {
		if f.src != nil {
			*f.dst = f.src
		}
	}
	return keys, nil
}

// configPath finds --config in args without parsing the rest, so the file
// can supply the other flags' defaults.
func configPath(args []string, getenv env) string {
	for i, a := range args {
		for _, name := range []string{"--config", "-config"} {
			if a == name && i+1 < len(args) {
				return args[i+1]
			}
			if v, ok := strings.CutPrefix(a, name+"="); ok {
				return v
			}
		}
	}
	return getenv("MATLENS_CONFIG")
}

// loadConfig builds defaults < file < environment.
func loadConfig(args []string, getenv env) (config, error) {
	c := defaultConfig()
	if path := configPath(args, getenv); path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return c, usagef("--config: %v", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
			return c, usagef("config %s: %s", path, strings.ReplaceAll(err.Error(), "\n ", ""))
		}
		if _, err := c.storageSources(); err != nil {
			return c, err
		}
	}
	if v := getenv("MATLENS_DB"); v != "" {
		c.DB = v
	}
	if c.Source.PG == "" && c.Source.File == "" {
		if v := getenv("DATABASE_URL"); v != "" {
			c.Source.PG = v
		} else if v := dsnFromPGEnv(getenv); v != "" {
			c.Source.PG = v
		} else if c.Source.DagsterYAML != "" {
			dsn, err := dsnFromDagsterYAML(c.Source.DagsterYAML, getenv)
			if err != nil {
				return c, err
			}
			c.Source.PG = dsn
		}
	}
	return c, nil
}

// dsnFromDagsterYAML reads the PostgreSQL connection from Dagster's own
// instance file: `storage: postgres:` (or the older
// `event_log_storage: config:`), with `postgres_url` or `postgres_db`,
// resolving `{env: VAR}` references through the injected environment.
func dsnFromDagsterYAML(path string, getenv env) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", usagef("source.dagster_yaml: %v", err)
	}
	var doc struct {
		Storage struct {
			Postgres *dagsterPG `yaml:"postgres"`
		} `yaml:"storage"`
		EventLogStorage struct {
			Config *dagsterPG `yaml:"config"`
		} `yaml:"event_log_storage"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return "", usagef("source.dagster_yaml %s: %v", path, err)
	}
	pg := doc.Storage.Postgres
	if pg == nil {
		pg = doc.EventLogStorage.Config
	}
	if pg == nil {
		return "", usagef("source.dagster_yaml %s: no `storage: postgres:` or `event_log_storage: config:` section", path)
	}
	resolve := func(what string, v envValue) (string, error) {
		if v.Env == "" {
			return v.Value, nil
		}
		s := getenv(v.Env)
		if s == "" {
			return "", usagef("source.dagster_yaml %s: %s refers to $%s, which is not set", path, what, v.Env)
		}
		return s, nil
	}
	if pg.URL.Value != "" || pg.URL.Env != "" {
		return resolve("postgres_url", pg.URL)
	}
	db := pg.DB
	if db == nil {
		return "", usagef("source.dagster_yaml %s: the postgres section has neither postgres_url nor postgres_db", path)
	}
	fields := map[string]string{}
	for _, f := range []struct {
		name string
		v    envValue
	}{{"username", db.Username}, {"password", db.Password}, {"hostname", db.Hostname}, {"db_name", db.DBName}, {"port", db.Port}, {"scheme", db.Scheme}} {
		s, err := resolve("postgres_db."+f.name, f.v)
		if err != nil {
			return "", err
		}
		fields[f.name] = s
	}
	if fields["hostname"] == "" || fields["db_name"] == "" {
		return "", usagef("source.dagster_yaml %s: postgres_db needs hostname and db_name", path)
	}
	u := url.URL{Scheme: "postgresql", Host: fields["hostname"], Path: "/" + fields["db_name"]}
	if fields["port"] != "" {
		u.Host += ":" + fields["port"]
	}
	if fields["password"] != "" {
		u.User = url.UserPassword(fields["username"], fields["password"])
	} else if fields["username"] != "" {
		u.User = url.User(fields["username"])
	}
	q := url.Values{}
	for k, v := range db.Params {
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

type dagsterPG struct {
	URL envValue   `yaml:"postgres_url"`
	DB  *dagsterDB `yaml:"postgres_db"`
}

type dagsterDB struct {
	Username envValue          `yaml:"username"`
	Password envValue          `yaml:"password"`
	Hostname envValue          `yaml:"hostname"`
	DBName   envValue          `yaml:"db_name"`
	Port     envValue          `yaml:"port"`
	Scheme   envValue          `yaml:"scheme"`
	Params   map[string]string `yaml:"params"`
}

// envValue is Dagster's "string or {env: VAR}" config value.
type envValue struct {
	Value string
	Env   string
}

func (e *envValue) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		e.Value = n.Value
		return nil
	}
	var m struct {
		Env string `yaml:"env"`
	}
	if err := n.Decode(&m); err != nil || m.Env == "" {
		return fmt.Errorf("line %d: want a value or {env: VAR}", n.Line)
	}
	e.Env = m.Env
	return nil
}

// cmdConfig prints the effective configuration, secrets redacted.
func cmdConfig(args []string, stdout, stderr io.Writer, getenv env) error {
	cfg, err := loadConfig(args, getenv)
	if err != nil {
		return err
	}
	fs := newFlagSet("config", stderr)
	fs.String("config", "", "the YAML configuration file (default: $MATLENS_CONFIG)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg.Source.PG = ingest.RedactDSN(cfg.Source.PG)
	for i, s := range cfg.Storage.Sources {
		cfg.Storage.Sources[i].Location = redactLocation(s.Location)
	}
	// Show the mapping in effect, not just what the file changed.
	keys, err := cfg.metadataKeys()
	if err != nil {
		return err
	}
	cfg.Ingest.MetadataKeys = metadataConfigOf(keys)
	out, err := yaml.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	_, err = stdout.Write(out)
	return err
}

// redactLocation hides the user information and query of a source URL
// (SAS tokens, keys) while keeping where it points.
func redactLocation(loc string) string {
	u, err := url.Parse(loc)
	if err != nil || len(u.Scheme) < 2 {
		return loc
	}
	if u.User != nil {
		u.User = url.User("xxxxx")
	}
	if u.RawQuery != "" {
		u.RawQuery = "xxxxx"
	}
	return u.String()
}

// metadataConfigOf renders a mapping in the config file's own terms.
func metadataConfigOf(k ingest.MetadataKeys) *metadataConfig {
	unit := map[float64]string{1: "bytes", 1 << 10: "KiB", 1 << 20: "MiB", 1 << 30: "GiB"}
	m := &metadataConfig{Rows: k.Rows, ExecutionTimeS: k.ExecTimeS, MemoryMB: k.MemoryMB, Location: k.Location}
	for _, s := range k.Size {
		u, ok := unit[s.BytesPerUnit]
		if !ok {
			u = fmt.Sprintf("x%g bytes", s.BytesPerUnit)
		}
		m.Size = append(m.Size, sizeKeyConfig{Key: s.Key, Unit: u})
	}
	return m
}

// tieringOptions converts the config section.
func (c *config) tieringOptions() tiering.Options {
	t := c.Tiering
	return tiering.Options{
		Provider: t.Provider, Region: t.Region, AllowArchiveForRead: t.AllowArchiveForRead,
		PaybackMonths: t.PaybackMonths, MinHistoryDays: t.MinHistoryDays,
		HotReadsPerDay: t.HotReadsPerDay, WarmReadsPerDay: t.WarmReadsPerDay,
		CurrentClass: t.CurrentClass, CurrentClassByPrefix: t.CurrentClassByPrefix,
		AllowedClasses: t.AllowedClasses,
	}
}

// tieringOptionsFor is tieringOptions for a provider the sheet prices.
func (c *config) tieringOptionsFor(provider string, sheet *tiering.PriceSheet) (tiering.Options, error) {
	o := c.tieringOptions()
	o.Provider = provider
	if !slices.Contains(sheet.ProviderNames(), provider) {
		return o, usagef("--provider: %q is not one of %s", provider, strings.Join(sheet.ProviderNames(), ", "))
	}
	return o, nil
}

// priceSheet is the built-in sheet with the configured overrides applied.
func (c *config) priceSheet() (*tiering.PriceSheet, error) {
	sheet, err := tiering.DefaultPriceSheet()
	if err != nil {
		return nil, fmt.Errorf("price sheet: %w", err)
	}
	if c.Tiering.PricesFile == "" {
		return sheet, nil
	}
	f, err := os.Open(c.Tiering.PricesFile)
	if err != nil {
		return nil, usagef("tiering.prices_file: %v", err)
	}
	defer f.Close()
	if err := sheet.Override(f); err != nil {
		return nil, usagef("tiering.prices_file %s: %v", c.Tiering.PricesFile, err)
	}
	return sheet, nil
}

// analyzeOptions converts the config section; egress prices come from the
// (possibly overridden) price sheet, so planners and tiering agree.
func (c *config) analyzeOptions(sheet *tiering.PriceSheet) analyze.Options {
	a := c.Analyze
	o := analyze.DefaultOptions()
	o.WindowDays, o.SpikeSigma, o.MinSuccessRate = a.WindowDays, a.SpikeSigma, a.MinSuccessRate
	o.RegressionFactor, o.RegressionWindow = a.RegressionFactor, a.RegressionWindow
	o.AvailableMemoryMB, o.Concurrency, o.PeakHours = a.AvailableMB, a.Concurrent, a.PeakHours
	o.RetentionDays, o.MultiNode, o.ComputeUSDPerHour = a.RetentionDays, a.MultiNode, a.ComputeUSDPerHour
	if a.DuckDBMemoryLimit != "" {
		o.MemoryLimit = a.DuckDBMemoryLimit
	}
	o.LocationKeys, o.OrphanPrefixes = c.Storage.LocationKeys, c.Storage.OrphanPrefixes
	if sheet != nil {
		o.EgressUSDPerGB = analyze.EgressRates(sheet)
	}
	return o
}
