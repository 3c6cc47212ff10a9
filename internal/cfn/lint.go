package cfn

import (
	"os/exec"
	"testing"
)

// Lint runs AWS's CloudFormation linter (cfn-lint, which applies the SAM
// transform first) on the template at path and fails t on any finding. The
// check needs cfn-lint (pip install cfn-lint; the project's machines have
// it): without it the test fails and says so, rather than passing unlinted.
func Lint(t testing.TB, path string) {
	t.Helper()
	bin, err := exec.LookPath("cfn-lint")
	if err != nil {
		t.Fatalf("cfn-lint is not installed; it must lint %s (pip install cfn-lint)", path)
	}
	out, err := exec.Command(bin, "--format", "parseable", path).CombinedOutput()
	if err != nil {
		t.Fatalf("cfn-lint %s: %v\n%s", path, err, out)
	}
}
