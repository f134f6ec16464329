package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/matlens/matlens/ingest"
	"github.com/matlens/matlens/ingest/objects"
	"github.com/matlens/matlens/sql/duckfile"
)

const objectsUsage = `Usage:
  matlens objects load --db FILE [--config F]
                       (--s3-inventory LOC | --gcs-inventory LOC | --azure-inventory LOC |
                        --list URL | --path DIR)... [--endpoint URL] [--region R] [--versions] [--path-style]
  matlens objects [list] --db FILE

load reads each source given, in order (with none, the config's storage.sources), and replaces
its snapshot in storage_objects; a source that fails keeps its previous snapshot. An inventory
LOC is a local copy (manifest, run or report directory) or the same in its bucket: s3://, gs://,
az://container/ or https://ACCOUNT.blob.core.windows.net/container/ (a prefix reads the newest run).
list prints what is loaded per source (storage_sources).
`

// cmdObjects dispatches `matlens objects [load|list]`; without a
// subcommand it lists.
func cmdObjects(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	if len(args) > 0 {
		switch args[0] {
		case "load":
			return cmdObjectsLoad(ctx, args[1:], stdout, stderr, getenv)
		case "list":
			return cmdObjectsList(ctx, args[1:], stdout, stderr, getenv)
		case "-h", "--help", "help":
			fmt.Fprint(stdout, objectsUsage)
			return nil
		}
		if !strings.HasPrefix(args[0], "-") {
			return usagef("objects: unknown subcommand %q (load or list)", args[0])
		}
	}
	return cmdObjectsList(ctx, args, stdout, stderr, getenv)
}

// reachesStore reports whether a source may read an object store, so that
// --endpoint and the S3 flags apply to it: listings and inventories (whose
// location may be a bucket URL).
func reachesStore(s objects.Source) bool { return s.Kind != objects.KindPath }

// sourceListFlag collects the source flags into one list, in the order
// given across all of them.
func sourceListFlag(fs *flag.FlagSet, dst *[]objects.Source, kind objects.Kind, name, usage string) {
	fs.Func(name, usage, func(v string) error {
		src := objects.Source{Kind: kind, Location: v}
		if err := src.Validate(); err != nil {
			return err
		}
		*dst = append(*dst, src)
		return nil
	})
}

func cmdObjectsLoad(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) (err error) {
	cfg, err := loadConfig(args, getenv)
	if err != nil {
		return err
	}
	fs := newFlagSet("objects load", stderr)
	db, newLogger := commonFlags(fs, cfg, "the matlens DuckDB file (created if missing; default: config db or $MATLENS_DB)")
	lockWait := fs.Duration("lock-wait", time.Duration(cfg.Ingest.LockWait), "how long to wait for a DuckDB file another process holds")
	var sources []objects.Source
	sourceListFlag(fs, &sources, objects.KindS3Inventory, "s3-inventory", "an S3 Inventory manifest.json, run or configuration directory (local path, or s3:// URL of a manifest or prefix); repeatable")
	sourceListFlag(fs, &sources, objects.KindGCSInventory, "gcs-inventory", "a GCS Storage Insights inventory manifest, shard or directory of shards (local path, or gs:// URL of a manifest, shard or prefix); repeatable")
	sourceListFlag(fs, &sources, objects.KindAzureInventory, "azure-inventory", "an Azure Blob Inventory <rule>-manifest.json or directory (local path, or az://container/... or https://ACCOUNT.blob.core.windows.net/container/... URL of a manifest or prefix); repeatable")
	sourceListFlag(fs, &sources, objects.KindList, "list", "list a bucket live: s3://, gs://, az:// or https://ACCOUNT.blob.core.windows.net/ URL; repeatable")
	sourceListFlag(fs, &sources, objects.KindPath, "path", "walk a local directory (or file:// URL); repeatable")
	endpoint := fs.String("endpoint", "", "S3-compatible endpoint (or GCS / Azure service URL) for this call's --list and inventory sources")
	region := fs.String("region", "", "S3 region for this call's --list and --s3-inventory sources (default: the AWS chain)")
	versions := fs.Bool("versions", false, "list every version and delete marker (--list sources)")
	pathStyle := fs.Bool("path-style", false, "address S3 buckets in the path, as most S3-compatible servers need")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *db == "" {
		return usagef("--db is required (the DuckDB file to load into)")
	}
	var tuned []string
	fs.Visit(func(fl *flag.Flag) {
		if fl.Name == "endpoint" || fl.Name == "region" || fl.Name == "versions" || fl.Name == "path-style" {
			tuned = append(tuned, "--"+fl.Name)
		}
	})
	if len(tuned) > 0 && !slices.ContainsFunc(sources, reachesStore) {
		return usagef("%s: applies to the --list and inventory sources of the call, and there are none (set it per source in storage.sources)", strings.Join(tuned, ", "))
	}
	if len(sources) == 0 {
		if sources, err = cfg.storageSources(); err != nil {
			return err
		}
		if len(sources) == 0 {
			return usagef("objects load: no source: give --s3-inventory, --gcs-inventory, --azure-inventory, --list or --path, or set storage.sources in the config")
		}
	} else {
		for i, s := range sources {
			if reachesStore(s) {
				s.Endpoint, s.Region, s.Versions, s.PathStyle = *endpoint, *region, *versions, *pathStyle
				sources[i] = s
			}
		}
	}
	logger, err := newLogger(stderr)
	if err != nil {
		return err
	}
	file, err := duckfile.Open(ctx, *db, duckfile.Options{LockWait: *lockWait})
	if err != nil {
		return err
	}
	// Close checkpoints the file: its error is the command's error too.
	defer func() { err = errors.Join(err, file.Close()) }()
	// NewStore applies (or upgrades) the schema storage_objects lives in.
	if _, err := ingest.NewStore(ctx, file); err != nil {
		return err
	}
	return objectsStage(ctx, stdout, stderr, file, sources, logger)
}

// objectsFailed is a load in which some sources failed; the others were
// loaded, and each failed one kept its previous snapshot. It exits
// exitSourceDown when every failure is a source that could not be reached
// (a missing directory or manifest, a network error), exitFailure
// otherwise.
type objectsFailed struct {
	failed []string
	total  int
	errs   []error
}

func (e *objectsFailed) Error() string {
	return fmt.Sprintf("objects: %d of %d sources failed and kept their previous snapshot: %s",
		len(e.failed), e.total, strings.Join(e.failed, ", "))
}

func (e *objectsFailed) Unwrap() []error { return e.errs }

func (e *objectsFailed) exitCode() int {
	for _, err := range e.errs {
		var ne net.Error
		if !errors.Is(err, fs.ErrNotExist) && !errors.As(err, &ne) {
			return exitFailure
		}
	}
	return exitSourceDown
}

// objectsStage loads each source in order into the open, read-write file:
// one summary line per source on stdout, a progress line on a terminal. A
// failed source is logged and the others still load (objects.Load is
// atomic, so it keeps its previous snapshot); the returned error is then
// an *objectsFailed. An interruption stops at once.
func objectsStage(ctx context.Context, stdout, stderr io.Writer, file *duckfile.File, sources []objects.Source, logger *slog.Logger) error {
	var failed objectsFailed
	failed.total = len(sources)
	for _, src := range sources {
		progress := newObjectsProgress(stderr, src.ID())
		opts := objects.DefaultOptions()
		opts.Logger = logger
		opts.Progress = progress.update
		sum, err := objects.Load(ctx, file, src, opts)
		progress.finish()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			logger.Error("object source failed; its previous snapshot stays", "source", src.ID(), "err", err)
			fmt.Fprintf(stdout, "objects: %s failed; previous snapshot kept\n", src.ID())
			failed.failed = append(failed.failed, src.ID())
			failed.errs = append(failed.errs, err)
			continue
		}
		printObjectsSummary(stdout, sum)
	}
	if len(failed.failed) > 0 {
		return &failed
	}
	return nil
}

func printObjectsSummary(w io.Writer, s objects.Summary) {
	fmt.Fprintf(w, "objects: %s: %d objects, %s, %d noncurrent, %d delete markers, %d files; snapshot %s\n",
		s.Source, s.Objects, bytesIEC(s.Bytes), s.Noncurrent, s.DeleteMarkers, s.Files, s.SnapshotAt.UTC().Format(time.RFC3339))
}

// bytesIEC formats a byte count in KiB..PiB.
func bytesIEC(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	v, i := float64(n), 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}

const objectsListSQL = `SELECT source, kind, provider, snapshot_at, loaded_at, files, objects, bytes, noncurrent, delete_markers
FROM storage_sources ORDER BY source`

// cmdObjectsList prints storage_sources, opening the file read-only as
// report does.
func cmdObjectsList(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) (err error) {
	cfg, err := loadConfig(args, getenv)
	if err != nil {
		return err
	}
	fs := newFlagSet("objects", stderr)
	db, newLogger := commonFlags(fs, cfg, "the matlens DuckDB file objects load filled (default: config db or $MATLENS_DB)")
	lockWait := fs.Duration("lock-wait", time.Duration(cfg.Ingest.LockWait), "how long to wait for a DuckDB file another process holds")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *db == "" {
		return usagef("--db is required (the DuckDB file objects load filled)")
	}
	if _, err := newLogger(stderr); err != nil {
		return err
	}
	file, err := openStageFile(ctx, *db, duckfile.Options{ReadOnly: true, LockWait: *lockWait}, "`matlens objects load` (or `matlens run`)")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, file.Close()) }()
	rows, err := file.Conn().QueryContext(ctx, objectsListSQL)
	if err != nil {
		return fmt.Errorf("objects: read storage_sources in %s (load a source with `matlens objects load` first): %w", *db, err)
	}
	defer rows.Close()
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "source\tkind\tprovider\tsnapshot_at\tloaded_at\tfiles\tobjects\tbytes\tnoncurrent\tdelete_markers")
	n := 0
	for rows.Next() {
		var (
			source, kind, provider              string
			snapshotAt, loadedAt                time.Time
			files                               int
			objs, bytes, noncurrent, delMarkers int64
		)
		if err := rows.Scan(&source, &kind, &provider, &snapshotAt, &loadedAt, &files, &objs, &bytes, &noncurrent, &delMarkers); err != nil {
			return fmt.Errorf("objects: read storage_sources: %w", err)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%d\t%d\n",
			source, kind, provider, snapshotAt.UTC().Format(time.RFC3339), loadedAt.UTC().Format(time.RFC3339),
			files, objs, bytesIEC(bytes), noncurrent, delMarkers)
		n++
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("objects: read storage_sources: %w", err)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if n == 0 {
		fmt.Fprintln(stdout, "(no object sources loaded; see `matlens objects load`)")
	}
	return nil
}
