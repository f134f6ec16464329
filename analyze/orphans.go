package analyze

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/matlens/matlens/tiering"
)

// orphanArchiveAfter is how long an orphan's newest object may be idle
// before matlens says delete rather than archive: younger leftovers may be
// someone's work in progress.
const orphanArchiveAfter = 90 * 24 * time.Hour

// priceOrphans fills orphaned_objects' cost and recommendation from the
// price sheet of each orphan's own provider, with tiering's cost model for
// objects nobody reads or rewrites: storage at the class's rate with its
// minimum billable size and per-object overhead, and Intelligent-Tiering's
// or Autoclass's monitoring fee per object. A group is priced at its
// average object size, as tiering prices an asset. Deleting saves all of
// it; for recent leftovers, moving to the cheapest class that needs no
// restore saves the difference (its one-time transition is left out: it is
// the owner's choice to pay it). Noncurrent versions and delete markers are
// to be expired (deleted).
func priceOrphans(ctx context.Context, tx *sql.Tx, sheet *tiering.PriceSheet, asOf time.Time) error {
	rows, err := tx.QueryContext(ctx, `SELECT rowid, provider, storage_class, reason, objects, bytes, newest_modified FROM orphaned_objects`)
	if err != nil {
		return fmt.Errorf("read orphans: %w", err)
	}
	type priced struct {
		rowid         int64
		cost, savings float64
		action        string
	}
	var out []priced
	for rows.Next() {
		var (
			rowid, objects, bytes   int64
			provider, class, reason string
			newest                  sql.NullTime
		)
		if err := rows.Scan(&rowid, &provider, &class, &reason, &objects, &bytes, &newest); err != nil {
			rows.Close()
			return fmt.Errorf("read orphans: %w", err)
		}
		pr := sheet.Providers[provider]
		if pr == nil {
			continue // local files, or a provider the sheet does not price
		}
		name, err := pr.CanonicalClass(class)
		if err != nil {
			name = pr.DefaultClass
		}
		idle := tiering.Usage{SizeBytes: float64(bytes), Objects: float64(max(objects, 1))}
		monthly := func(class string) (float64, error) {
			b, err := tiering.CostPerMonth(sheet, provider, class, idle)
			return b.TotalUSD, err
		}
		cost, err := monthly(name)
		if err != nil {
			rows.Close()
			return fmt.Errorf("price orphans: %w", err)
		}
		p := priced{rowid: rowid, cost: cost, savings: cost, action: "delete"}
		if reason == "no current materialization" && newest.Valid && asOf.Sub(newest.Time) < orphanArchiveAfter {
			cheapest := cost
			for _, n := range pr.ClassNames() {
				if pr.Classes[n].NeedsRestore {
					continue
				}
				if v, err := monthly(n); err == nil && v < cheapest {
					cheapest = v
				}
			}
			p.action, p.savings = "archive", cost-cheapest
		}
		out = append(out, p)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	for _, p := range out {
		if _, err := tx.ExecContext(ctx,
			"UPDATE orphaned_objects SET cost_usd_month = $1, action = $2, savings_usd_month = $3 WHERE rowid = $4",
			p.cost, p.action, p.savings, p.rowid); err != nil {
			return fmt.Errorf("price orphans: %w", err)
		}
	}
	return nil
}
