package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/matlens/matlens/fixtures"
	"github.com/matlens/matlens/ingest"
)

func cmdFixtures(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	if len(args) == 0 || args[0] != "generate" {
		return usagef("usage: matlens fixtures generate (--pg DSN | --out FILE) [--inventory DIR] [--assets N] [--days N] [--runs-per-day N] [--rows N] [--seed N]")
	}
	fs := newFlagSet("fixtures generate", stderr)
	fs.String("config", "", "the YAML configuration file (accepted for uniformity; this command reads nothing from it)")
	pg := fs.String("pg", "", "load into this (empty) PostgreSQL database with COPY")
	out := fs.String("out", "", "write a pg_dump-style file instead")
	ifEmpty := fs.Bool("if-empty", false, "with --pg: do nothing when event_logs already holds rows (for docker-compose seeding)")
	expectedPath := fs.String("expected", "", "where to write the expected answers (default: FILE.expected.json with --out)")
	inventory := fs.String("inventory", "", "write the deployment's bucket as an S3 Inventory report in this directory (default with --out: FILE's name with -inventory; \"none\" writes none)")
	inventoryFormat := fs.String("inventory-format", "csv", "the inventory's data files: csv (gzip) or parquet")
	o := fixtures.DefaultOptions()
	fs.IntVar(&o.Assets, "assets", o.Assets, "number of assets")
	fs.IntVar(&o.Days, "days", o.Days, "days of history")
	fs.IntVar(&o.RunsPerDay, "runs-per-day", o.RunsPerDay, "scheduled runs per day")
	fs.Int64Var(&o.Rows, "rows", o.Rows, "about this many event rows in total (scales runs per day; 0 = off)")
	fs.Uint64Var(&o.Seed, "seed", o.Seed, "random seed; the same seed gives the same data")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if err := o.Validate(); err != nil {
		return usageError{err.Error()}
	}
	inv := fixtures.InventoryOptions{}
	switch strings.ToLower(*inventoryFormat) {
	case "csv":
		inv.Format = fixtures.FormatCSV
	case "parquet":
		inv.Format = fixtures.FormatParquet
	default:
		return usagef("--inventory-format: %q is neither csv nor parquet", *inventoryFormat)
	}
	if *inventory == "" && *out != "" {
		*inventory = strings.TrimSuffix(*out, filepath.Ext(*out)) + "-inventory"
	}
	var exp *fixtures.Expected
	switch {
	case *pg != "" && *out != "":
		return usagef("give either --pg or --out, not both")
	case *out != "":
		var err error
		if exp, err = writeDumpFile(ctx, *out, o); err != nil {
			return err
		}
		if *expectedPath == "" {
			*expectedPath = *out + ".expected.json"
		}
		fmt.Fprintf(stdout, "fixtures: wrote %d event rows (%d runs, %d assets) to %s\n", exp.Rows, exp.Runs, len(exp.Assets), *out)
	default:
		dsn := *pg
		if dsn == "" {
			dsn = getenv("DATABASE_URL")
		}
		if dsn == "" {
			return usagef("give --pg DSN (an empty database) or --out FILE")
		}
		if *ifEmpty {
			n, err := eventRows(ctx, dsn)
			if err != nil {
				return err
			}
			if n > 0 {
				fmt.Fprintf(stdout, "fixtures: %s already holds %d event rows; left as is\n", ingest.RedactDSN(dsn), n)
				return nil
			}
		}
		var err error
		if exp, err = fixtures.LoadPostgres(ctx, dsn, o); err != nil {
			return &ingest.SourceError{Op: "load fixtures into " + ingest.RedactDSN(dsn), Err: err}
		}
		fmt.Fprintf(stdout, "fixtures: loaded %d event rows (%d runs, %d assets) into %s\n", exp.Rows, exp.Runs, len(exp.Assets), ingest.RedactDSN(dsn))
	}
	if *expectedPath != "" {
		if err := exp.WriteFile(*expectedPath); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "fixtures: expected answers in %s\n", *expectedPath)
	}
	if *inventory != "" && *inventory != "none" {
		manifest, set, err := fixtures.WriteDeploymentInventory(ctx, *inventory, o, inv)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "fixtures: wrote the bucket's S3 Inventory (%d objects and versions) to %s\n", len(set.Objects), manifest)
		fmt.Fprintf(stdout, "fixtures: load it with: matlens objects load --db matlens.duckdb --s3-inventory %s\n", *inventory)
	}
	return nil
}

// writeDumpFile writes to a temporary name and renames, so a reader never
// sees half a dump.
func writeDumpFile(ctx context.Context, path string, o fixtures.Options) (exp *fixtures.Expected, err error) {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return nil, fmt.Errorf("fixtures: %w", err)
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	w := bufio.NewWriterSize(f, 1<<20)
	exp, err = fixtures.WriteDump(ctx, w, o)
	if err == nil {
		err = w.Flush()
	}
	if err = errors.Join(err, f.Close()); err != nil {
		return nil, fmt.Errorf("fixtures: write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, fmt.Errorf("fixtures: %w", err)
	}
	return exp, nil
}

// eventRows counts event_logs rows, 0 when the table does not exist.
func eventRows(ctx context.Context, dsn string) (n int64, err error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return 0, &ingest.SourceError{Op: "connect to " + ingest.RedactDSN(dsn), Err: err}
	}
	defer func() { err = errors.Join(err, conn.Close(ctx)) }()
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass('event_logs') IS NOT NULL").Scan(&exists); err != nil || !exists {
		return 0, err
	}
	err = conn.QueryRow(ctx, "SELECT count(*) FROM event_logs").Scan(&n)
	return n, err
}
