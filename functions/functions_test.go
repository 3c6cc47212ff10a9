// Package functions_test checks the Lambda functions as a set: that each
// folder holds only a wiring main.go, that every one cross-compiles for the
// Lambda runtime, and (template_test.go) that template.yaml deploys exactly
// these functions with what they need.
package functions_test

import (
	"debug/elf"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/goodfaith/goodfaith/internal/app"
)

// functionNames lists the folders of functions/ (each one Lambda).
func functionNames(t testing.TB) []string {
	t.Helper()
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() && e.Name() != "testdata" {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		t.Fatal("no function folders")
	}
	return names
}

// wiringImports are all a main.go may import: reading the environment,
// building the app and starting the Lambda runtime is wiring; anything else
// belongs in internal/.
var wiringImports = []string{
	"context", "fmt", "os",
	"github.com/aws/aws-lambda-go/lambda",
	"github.com/goodfaith/goodfaith/internal/app",
	"github.com/goodfaith/goodfaith/internal/httpapi",
	"github.com/goodfaith/goodfaith/internal/lambdahttp",
	"github.com/goodfaith/goodfaith/internal/lambdaruntime",
	"github.com/goodfaith/goodfaith/internal/lambdaschedule",
	"github.com/goodfaith/goodfaith/internal/lambdasqs",
	"github.com/goodfaith/goodfaith/internal/lambdastream",
	"github.com/goodfaith/goodfaith/internal/lambdaws",
}

func TestEachFunctionIsOnlyAWiringMain(t *testing.T) {
	for _, name := range functionNames(t) {
		entries, err := os.ReadDir(name)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 || entries[0].Name() != "main.go" {
			t.Errorf("functions/%s holds %d entries; want main.go only", name, len(entries))
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(name, "main.go"), nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		if f.Name.Name != "main" || f.Doc == nil {
			t.Errorf("functions/%s/main.go: want a documented package main", name)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if !slices.Contains(wiringImports, path) {
				t.Errorf("functions/%s/main.go imports %s; logic belongs in internal/", name, path)
			}
		}
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Name.Name != "main" {
				t.Errorf("functions/%s/main.go declares func %s; logic belongs in internal/", name, fd.Name.Name)
			}
			if gd, ok := d.(*ast.GenDecl); ok && gd.Tok != token.IMPORT {
				t.Errorf("functions/%s/main.go declares a %s; logic belongs in internal/", name, gd.Tok)
			}
		}
	}
}

// maxBootstrapBytes is the budget of each linux/arm64 bootstrap: 15 MB.
const maxBootstrapBytes = 15_000_000

// TestFunctionsCrossCompileForLambda builds every function as `make lambdas`
// and SAM do: linux/arm64, static, without the RPC mode of the runtime.
func TestFunctionsCrossCompileForLambda(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles every function for linux/arm64; -short skips it")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to cross-compile: %v", err)
	}
	out := t.TempDir()
	for _, name := range functionNames(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			bin := filepath.Join(out, name, "bootstrap")
			cmd := exec.Command(gobin, "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", bin, "./"+name)
			cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
			if msg, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("go build ./functions/%s: %v\n%s", name, err, msg)
			}
			f, err := elf.Open(bin)
			if err != nil {
				t.Fatalf("bootstrap is not an ELF binary: %v", err)
			}
			defer f.Close()
			if f.Machine != elf.EM_AARCH64 || f.Class != elf.ELFCLASS64 {
				t.Errorf("bootstrap is for %v %v; want 64-bit arm64", f.Class, f.Machine)
			}
			for _, p := range f.Progs {
				if p.Type == elf.PT_INTERP {
					t.Error("bootstrap is dynamically linked; provided.al2023 needs a static binary (CGO_ENABLED=0)")
				}
			}
			// The size budget of issue 9 (a size, not a timing: the same
			// sources always build the same bytes). A function over it links
			// more than it uses: see app.Needs and httpapi.Routes.
			fi, err := os.Stat(bin)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Size() > maxBootstrapBytes {
				t.Errorf("bootstrap is %d bytes; the budget is %d", fi.Size(), maxBootstrapBytes)
			}
		})
	}
}

// TestEachFunctionHasItsNeeds: every function builds its app with
// app.ForFunction and its own app.<Name>Needs, which app.NeedsOf knows, and
// serves only its own routes.
func TestEachFunctionHasItsNeeds(t *testing.T) {
	for _, name := range functionNames(t) {
		if _, ok := app.NeedsOf(name); !ok {
			t.Errorf("app.NeedsOf does not know functions/%s", name)
		}
		src, err := os.ReadFile(filepath.Join(name, "main.go"))
		if err != nil {
			t.Fatal(err)
		}
		needs := "app." + strings.ToUpper(name[:1]) + name[1:] + "Needs())"
		if !strings.Contains(string(src), "app.ForFunction(") || !strings.Contains(string(src), needs) {
			t.Errorf("functions/%s/main.go does not build its app with app.ForFunction(ctx, os.Getenv, %s", name, needs)
		}
		// app.Handler (httpapi.New) picks audiences at run time, so it would
		// link every audience's handlers: a function serves its own
		// httpapi.<Name>Routes.
		if strings.Contains(string(src), ".Handler(httpapi.") {
			t.Errorf("functions/%s/main.go serves app.Handler(httpapi.…); serve a.Serve(httpapi.%sRoutes)", name, strings.ToUpper(name[:1])+name[1:])
		}
		if strings.Contains(string(src), "a.Serve(httpapi.") && !strings.Contains(string(src), "a.Serve(httpapi."+strings.ToUpper(name[:1])+name[1:]+"Routes)") {
			t.Errorf("functions/%s/main.go serves another audience's routes", name)
		}
	}
}
