package tiering

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteJSON writes the effective sheet as indented JSON (for
// `matlens prices --json`); provider "" writes every provider.
func (p *PriceSheet) WriteJSON(w io.Writer, provider string) error {
	out, err := p.subset(provider)
	if err != nil {
		return fmt.Errorf("write prices: %w", err)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write prices: %w", err)
	}
	return nil
}

func (p *PriceSheet) subset(provider string) (*PriceSheet, error) {
	if provider == "" {
		return p, nil
	}
	pr, err := p.lookup(provider)
	if err != nil {
		return nil, err
	}
	return &PriceSheet{Version: p.Version, Currency: p.Currency,
		Providers: map[string]*Provider{strings.ToLower(provider): pr}}, nil
}

// WriteTable writes the effective sheet as aligned text (for
// `matlens prices`): one block per provider with a row per class, the
// provenance notes (disputed and unverified entries flagged) and the
// egress tiers. Provider "" writes every provider.
func (p *PriceSheet) WriteTable(w io.Writer, provider string) error {
	s, err := p.subset(provider)
	if err != nil {
		return fmt.Errorf("write prices: %w", err)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "price sheet %s (%s)\n", s.Version, s.Currency)
	for _, pn := range s.ProviderNames() {
		pr := s.Providers[pn]
		fmt.Fprintf(tw, "\n%s: %s, %s, as of %s%s; GB = %.0f bytes; default %s\n",
			pn, pr.Name, pr.Region, pr.AsOf, flags(pr.Disputed, pr.Unverified), pr.BytesPerGB, pr.DefaultClass)
		fmt.Fprintln(tw, "class\tstorage/GB-mo\tretrieval/GB\tmin days\tmin object\twrite/1k\tread/1k\trestore/1k\ttransition/1k\tmonitoring/1k obj-mo\trestore latency\tas of\tflags")
		for _, cn := range pr.ClassNames() {
			c := pr.Classes[cn]
			storage := num(c.StorageUSDPerGBMonth)
			if c.Managed {
				var ts []string
				for _, t := range c.Tiers {
					ts = append(ts, fmt.Sprintf("%s@%gd", num(t.USDPerGBMonth), t.AfterIdleDays))
				}
				storage = strings.Join(ts, " ")
			}
			minObj := "-"
			if c.MinBillableObjectBytes > 0 {
				minObj = fmt.Sprintf("%g KiB", c.MinBillableObjectBytes/1024)
			}
			if c.OverheadClassBytes+c.OverheadDefaultBytes > 0 {
				minObj = fmt.Sprintf("+%g KiB/obj", (c.OverheadClassBytes+c.OverheadDefaultBytes)/1024)
			}
			latency := "-"
			if c.NeedsRestore {
				latency = fmt.Sprintf("%g h", c.RestoreLatencyHours)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%g\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
				cn, storage, num(c.RetrievalUSDPerGB), c.MinStorageDays, minObj, num(c.WriteUSDPer1k),
				num(c.ReadUSDPer1k), num(c.RestoreRequestUSDPer1k), num(c.TransitionInUSDPer1k),
				num(c.MonitoringUSDPer1kObjectsMonth), latency, c.AsOf, strings.TrimPrefix(flags(c.Disputed, c.Unverified), " "))
		}
		var tiers []string
		lo := 0.0
		for _, t := range pr.Egress.Tiers {
			hi := "∞"
			if t.UpToGB > 0 {
				hi = fmt.Sprintf("%g", t.UpToGB)
			}
			tiers = append(tiers, fmt.Sprintf("%g-%s GB %s", lo, hi, num(t.USDPerGB)))
			lo = t.UpToGB
		}
		fmt.Fprintf(tw, "egress/GB (as of %s%s): %s\n", pr.Egress.AsOf, flags(pr.Egress.Disputed, pr.Egress.Unverified), strings.Join(tiers, "; "))
		if err := tw.Flush(); err != nil {
			return fmt.Errorf("write prices: %w", err)
		}
		note := func(what, n, src string) {
			fmt.Fprintf(w, "  %s: %s\n    source: %s\n", what, n, src)
		}
		fmt.Fprintln(w, "notes:")
		note(pn, pr.Note, pr.Source)
		for _, cn := range pr.ClassNames() {
			note(cn, pr.Classes[cn].Note, pr.Classes[cn].Source)
		}
		note("egress", pr.Egress.Note, pr.Egress.Source)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write prices: %w", err)
	}
	return nil
}

func flags(disputed, unverified bool) string {
	var f []string
	if disputed {
		f = append(f, "DISPUTED")
	}
	if unverified {
		f = append(f, "unverified")
	}
	if len(f) == 0 {
		return ""
	}
	return " " + strings.Join(f, ",")
}

func num(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%g", v)
}
