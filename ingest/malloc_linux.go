//go:build linux && cgo

package ingest

// #include <malloc.h>
import "C"

// releaseCHeap hands the free pages of the C heap back to the OS (glibc's
// malloc_trim). DuckDB frees memory between batches that glibc otherwise
// keeps mapped: trimming after every batch and before the final derivation
// lowered the peak RSS of a cold 2M-row bench run from 239-256 MB to
// 225-241 MB (6 alternations) and of a 200k-row one from 177-179 MB to
// 158-164 MB, with no measurable cost in time.
func releaseCHeap() { C.malloc_trim(0) }
