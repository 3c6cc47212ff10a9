package golden

import (
	"os"
	"path/filepath"
	"testing"
)

// recorder is a testing.TB that records failures instead of ending the test.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true }
func (r *recorder) Fatal(...any)          { r.failed = true }

func TestCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.golden")
	if err := os.WriteFile(path, []byte("same\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name     string
		path     string
		got      string
		wantFail bool
	}{
		{"equal bytes pass", path, "same\n", false},
		{"different bytes fail", path, "other\n", true},
		{"a missing file fails", filepath.Join(t.TempDir(), "missing"), "same\n", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := &recorder{TB: t}
			Check(r, c.path, []byte(c.got))
			if r.failed != c.wantFail {
				t.Fatalf("failed = %v, want %v", r.failed, c.wantFail)
			}
		})
	}
}
