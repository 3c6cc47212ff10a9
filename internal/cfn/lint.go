package cfn

import (
	"os"
	"os/exec"
	"testing"
)

// Lint runs AWS's CloudFormation linter (cfn-lint, which applies the SAM
// transform first) on the template at path and fails t on any finding.
// cfn-lint is installed on the project's machines (pip); a machine without
// it skips by hand, and fails under CI (CI set), so CI never counts an
// unlinted template as passing.
func Lint(t testing.TB, path string) {
	t.Helper()
	bin, err := exec.LookPath("cfn-lint")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("cfn-lint is not installed; CI must lint %s (pip install cfn-lint)", path)
		}
		t.Skip("cfn-lint is not installed (pip install cfn-lint); CI runs this check")
	}
	out, err := exec.Command(bin, "--format", "parseable", path).CombinedOutput()
	if err != nil {
		t.Fatalf("cfn-lint %s: %v\n%s", path, err, out)
	}
}
