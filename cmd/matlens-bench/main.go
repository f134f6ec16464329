// Command matlens-bench is the developer harness behind docs/performance.md:
// it times a cold `matlens run` against PostgreSQL's own read limit on
// generated fixtures, and an incremental run after appending 1% new rows.
//
//	go run ./cmd/matlens-bench --pg postgres://postgres@127.0.0.1:5432/postgres --rows 200000,2000000 --k 5
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
