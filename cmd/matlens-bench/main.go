// Command matlens-bench is the developer harness behind docs/performance.md:
// it times a cold `matlens run` against PostgreSQL's own read limit on
// generated fixtures, and an incremental run after appending 1% new rows.
// With --objects it times `matlens objects load` of a generated S3
// Inventory and `matlens analyze` joining it to a synthetic store's assets
// instead, checking the results against what it generated.
//
//	go run ./cmd/matlens-bench --pg postgres://postgres@127.0.0.1:5432/postgres --rows 200000,2000000 --k 5
//	go run ./cmd/matlens-bench --objects 10000000 --assets 10000 --k 3 --dir /tmp/objbench
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}
