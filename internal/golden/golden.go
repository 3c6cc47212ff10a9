// Package golden compares what a test produces with a file kept under the
// package's testdata/, so that a change of output is seen in review: run the
// tests with -update to rewrite the files, then read the diff before
// committing it.
package golden

import (
	"bytes"
	"flag"
	"os"
	"testing"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/ with what the tests produce")

// Check fails t when got differs from the file at path. With -update it
// first writes got there.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		if printable(got) && printable(want) {
			t.Errorf("%s differs from the golden file (run with -update after checking):\n--- got\n%s\n--- want\n%s", path, got, want)
		} else {
			t.Errorf("%s differs from the golden file (run with -update after checking): got %d bytes, want %d", path, len(got), len(want))
		}
	}
}

// printable reports whether b is short text worth showing in a failure.
func printable(b []byte) bool {
	return len(b) <= 16<<10 && utf8.Valid(b) && !bytes.ContainsRune(b, 0)
}
