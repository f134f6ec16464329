// Package duckfiletest lets a test hold a DuckDB file open in another
// process, the way an analyst's DuckDB session or a second matlens does:
// DuckDB's file lock is per process, so a lock test needs a second one.
package duckfiletest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/matlens/matlens/sql/duckfile"
)

// holdEnv tells a re-executed test binary which file to hold: "rw:PATH" or
// "ro:PATH".
const holdEnv = "MATLENS_TEST_HOLD_DB"

// ServeHold is called first in a package's TestMain. In a process Hold
// started it holds the file until it is killed (at most a minute) and
// exits; elsewhere it returns at once.
func ServeHold() {
	spec := os.Getenv(holdEnv)
	if spec == "" {
		return
	}
	mode, path, _ := strings.Cut(spec, ":")
	f, err := duckfile.Open(context.Background(), path, duckfile.Options{ReadOnly: mode == "ro"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("holding")
	time.Sleep(time.Minute)
	_ = f.Close()
	os.Exit(0)
}

// Hold starts the test binary again, holding path open (read-only when
// readOnly), and returns its PID once it holds the file. The process is
// killed when the test ends. The package's TestMain must call ServeHold.
func Hold(t testing.TB, path string, readOnly bool) int {
	t.Helper()
	mode := "rw"
	if readOnly {
		mode = "ro"
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), holdEnv+"="+mode+":"+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "holding\n" {
		t.Fatalf("the process holding %s said %q", path, line)
	}
	return cmd.Process.Pid
}
