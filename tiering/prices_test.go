package tiering

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func TestDefaultPriceSheet(t *testing.T) {
	t.Parallel()
	s := mustSheet(t)
	want := map[string][]string{
		"aws":   {"STANDARD", "STANDARD_IA", "INTELLIGENT_TIERING", "ONEZONE_IA", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"},
		"gcp":   {"STANDARD", "AUTOCLASS", "NEARLINE", "COLDLINE", "ARCHIVE"},
		"azure": {"Hot", "Cool", "Cold", "Archive"},
	}
	for pn, classes := range want {
		pr := s.Providers[pn]
		if pr == nil {
			t.Fatalf("no provider %s", pn)
		}
		if got := strings.Join(pr.ClassNames(), ","); got != strings.Join(classes, ",") {
			t.Errorf("%s classes %s, want %s", pn, got, strings.Join(classes, ","))
		}
		for cn, c := range pr.Classes {
			if c.Region != pr.Region || c.AsOf == "" || c.Source == "" {
				t.Errorf("%s/%s: missing provenance %+v", pn, cn, c)
			}
		}
		if len(pr.Egress.Tiers) == 0 {
			t.Errorf("%s: no egress tiers", pn)
		}
	}
	// The reference (§C.4) marks these entries as disputed.
	for _, d := range []struct{ p, c string }{
		{"aws", "GLACIER"}, {"aws", "INTELLIGENT_TIERING"}, {"azure", "Hot"}, {"azure", "Archive"},
	} {
		if c := s.Providers[d.p].Classes[d.c]; !c.Disputed || c.Note == "" {
			t.Errorf("%s/%s should be disputed with a note", d.p, d.c)
		}
	}
	if !s.Providers["gcp"].Egress.Disputed {
		t.Error("gcp egress should be disputed")
	}
	if c := s.Providers["aws"].Classes["GLACIER_IR"]; !c.Unverified {
		t.Error("GLACIER_IR request prices are unverified")
	}
}

func TestEgressUSD(t *testing.T) {
	t.Parallel()
	aws := mustSheet(t).Providers["aws"]
	for _, tt := range []struct{ gb, want float64 }{
		{50, 0},
		{100, 0},
		{1100, 1000 * 0.09},
		// 10,140 GB at 0.09, then 40,960 at 0.085, 102,400 at 0.07, 46,400 at 0.05.
		{200000, 10140*0.09 + 40960*0.085 + 102400*0.07 + 46400*0.05},
	} {
		if got := aws.EgressUSD(tt.gb); math.Abs(got-tt.want) > 1e-6 {
			t.Errorf("EgressUSD(%v) = %v, want %v", tt.gb, got, tt.want)
		}
	}
}

func TestOverride(t *testing.T) {
	t.Parallel()
	s := mustSheet(t)
	err := s.Override(strings.NewReader(`
providers:
  aws:
    classes:
      STANDARD_IA:
        storage_usd_per_gb_month: 0.0138
        as_of: 2026-10-01
        source: AWS Price List API
  azure:
    classes:
      Archive:
        storage_usd_per_gb_month: 0.00099
`))
	if err != nil {
		t.Fatal(err)
	}
	ia := s.Providers["aws"].Classes["STANDARD_IA"]
	if ia.StorageUSDPerGBMonth != 0.0138 || ia.AsOf != "2026-10-01" || ia.Source != "AWS Price List API" {
		t.Errorf("override not applied: %+v", ia)
	}
	// Everything else is untouched.
	if ia.RetrievalUSDPerGB != 0.01 || ia.MinStorageDays != 30 || s.Providers["aws"].Classes["STANDARD"].StorageUSDPerGBMonth != 0.023 {
		t.Errorf("override changed other fields: %+v", ia)
	}
	if got := s.Providers["azure"].Classes["Archive"].StorageUSDPerGBMonth; got != 0.00099 {
		t.Errorf("azure archive = %v", got)
	}
	// Lists replace the sheet's list whole: Autoclass with terminal Archive.
	if err := s.Override(strings.NewReader(`
providers:
  gcp:
    classes:
      AUTOCLASS:
        tiers:
          - {name: STANDARD, after_idle_days: 0, storage_usd_per_gb_month: 0.02}
          - {name: NEARLINE, after_idle_days: 30, storage_usd_per_gb_month: 0.01}
          - {name: COLDLINE, after_idle_days: 90, storage_usd_per_gb_month: 0.004}
          - {name: ARCHIVE, after_idle_days: 365, storage_usd_per_gb_month: 0.0012}
`)); err != nil {
		t.Fatal(err)
	}
	if n := len(s.Providers["gcp"].Classes["AUTOCLASS"].Tiers); n != 4 {
		t.Errorf("autoclass tiers = %d", n)
	}
	if err := s.Override(strings.NewReader("")); err != nil {
		t.Errorf("empty override: %v", err)
	}
}

func TestOverrideErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ yaml, want string }{
		{"providers:\n  aws:\n    classes:\n      STANDARD:\n        storage_usd_per_gb_mont: 0.02\n",
			`unknown key "providers.aws.classes.STANDARD.storage_usd_per_gb_mont"`},
		{"providers:\n  oracle:\n    region: x\n", `unknown key "providers.oracle"`},
		{"providers:\n  aws:\n    classes:\n      TAPE:\n        rank: 9\n", `unknown key "providers.aws.classes.TAPE"`},
		{"verison: x\n", `unknown key "verison"`},
		{"providers:\n  aws:\n    classes:\n      STANDARD:\n        storage_usd_per_gb_month: -1\n", "storage_usd_per_gb_month must be a finite number >= 0"},
		{"providers:\n  aws:\n    classes:\n      STANDARD:\n        storage_usd_per_gb_month: cheap\n", "cannot unmarshal"},
		{"providers:\n  aws:\n    default_class: TAPE\n", `default_class "TAPE" is not a class`},
		{"providers:\n  aws:\n    classes:\n      GLACIER:\n        note: \"\"\n", "disputed entry needs a note"},
		{"providers:\n  aws:\n    as_of: soon\n", `as_of "soon"`},
		{"providers:\n  aws:\n    classes: [1, 2]\n", "want a mapping"},
	} {
		s := mustSheet(t)
		err := s.Override(strings.NewReader(tt.yaml))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("override %q: err = %v, want %q", tt.yaml, err, tt.want)
		}
		if strings.Count(err.Error(), "price override") > 1 {
			t.Errorf("prefix repeated: %v", err)
		}
		// A failed override leaves the sheet as it was.
		if s.Providers["aws"].Classes["STANDARD"].StorageUSDPerGBMonth != 0.023 || s.Providers["aws"].DefaultClass != "STANDARD" {
			t.Errorf("failed override changed the sheet")
		}
	}
}

func TestLoadPriceSheetStrict(t *testing.T) {
	t.Parallel()
	_, err := LoadPriceSheet(strings.NewReader("version: x\ncurrency: USD\nprovider: {}\n"))
	if err == nil || !strings.Contains(err.Error(), "field provider not found") {
		t.Errorf("err = %v", err)
	}
}

func TestWritePrices(t *testing.T) {
	t.Parallel()
	s := mustSheet(t)
	var buf bytes.Buffer
	if err := s.WriteTable(&buf, "aws"); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"us-east-1", "DEEP_ARCHIVE", "DISPUTED", "0.00099", "egress/GB", "source:"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "us-central1") {
		t.Error("table for aws shows gcp")
	}
	buf.Reset()
	if err := s.WriteJSON(&buf, ""); err != nil {
		t.Fatal(err)
	}
	var back PriceSheet
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if err := back.Validate(); err != nil || len(back.Providers) != 3 {
		t.Errorf("JSON round trip: %v, %d providers", err, len(back.Providers))
	}
	if err := s.WriteTable(&buf, "oracle"); err == nil {
		t.Error("unknown provider accepted")
	}
}
