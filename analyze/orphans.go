package analyze

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"time"

	"github.com/matlens/matlens/tiering"
)

// orphanArchiveAfter is how long an orphan's newest object may be idle
// before matlens says delete rather than archive: younger leftovers may be
// someone's work in progress.
const orphanArchiveAfter = 90 * 24 * time.Hour

// priceOrphans fills orphaned_objects' cost and recommendation from the
// price sheet of each orphan's own provider: what it costs a month where
// it is (billable bytes at its class, at least the class's minimum
// billable size per object), and what deleting it, or for recent
// leftovers moving it to the cheapest class that needs no restore, saves.
// Noncurrent versions and delete markers are to be expired (deleted).
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
		monthly := func(c *tiering.Class) float64 {
			billable := math.Max(float64(bytes), float64(objects)*c.MinBillableObjectBytes)
			return billable / pr.BytesPerGB * c.StorageUSDPerGBMonth
		}
		cost := monthly(pr.Classes[name])
		p := priced{rowid: rowid, cost: cost, savings: cost, action: "delete"}
		if reason == "no current materialization" && newest.Valid && asOf.Sub(newest.Time) < orphanArchiveAfter {
			best := name
			for n, c := range pr.Classes {
				if !c.NeedsRestore && !c.Managed && monthly(c) < monthly(pr.Classes[best]) {
					best = n
				}
			}
			p.action, p.savings = "archive", cost-monthly(pr.Classes[best])
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
