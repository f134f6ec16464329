//go:build linux && cgo

package ingest

// #include <malloc.h>
import "C"

// releaseCHeap hands the free pages of the C heap back to the OS (glibc's
// malloc_trim). DuckDB frees memory between batches that glibc otherwise
// keeps mapped, so trimming after every batch and before the final
// derivation lowers the run's peak RSS at no measurable cost in time.
func releaseCHeap() { C.malloc_trim(0) }
