package main

import (
	"io"
	"slices"
	"strings"
)

// cmdPrices prints the effective price sheet: the built-in, dated entries
// with any overrides from tiering.prices_file applied.
func cmdPrices(args []string, stdout, stderr io.Writer, getenv env) error {
	cfg, err := loadConfig(args, getenv)
	if err != nil {
		return err
	}
	fs := newFlagSet("prices", stderr)
	fs.String("config", "", "the YAML configuration file (default: $MATLENS_CONFIG)")
	provider := fs.String("provider", "", "only this provider: aws, gcp or azure (default: all)")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	pricesFile := fs.String("prices", cfg.Tiering.PricesFile, "a YAML file overriding entries of the built-in sheet")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg.Tiering.PricesFile = *pricesFile
	sheet, err := cfg.priceSheet()
	if err != nil {
		return err
	}
	if *provider != "" && !slices.Contains(sheet.ProviderNames(), *provider) {
		return usagef("--provider: %q is not one of %s", *provider, strings.Join(sheet.ProviderNames(), ", "))
	}
	if *asJSON {
		return sheet.WriteJSON(stdout, *provider)
	}
	return sheet.WriteTable(stdout, *provider)
}
