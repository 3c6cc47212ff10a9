// Package seedtest gives tests the project's shared test seed,
// testdata/seed/e2e.json (clinics a to d, their providers and medical
// directors), wherever the test runs from.
package seedtest

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/goodfaith/goodfaith/internal/directory"
)

// Path is the seed file's path.
func Path() string {
	_, here, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(here), "..", "..", "..", "testdata", "seed", "e2e.json")
}

// E2E returns the parsed seed; t fails when the file is missing or invalid.
func E2E(t testing.TB) directory.Seed {
	t.Helper()
	raw, err := os.ReadFile(Path())
	if err != nil {
		t.Fatal(err)
	}
	seed, err := directory.ParseSeed(raw)
	if err != nil {
		t.Fatalf("%s: %v", Path(), err)
	}
	return seed
}
