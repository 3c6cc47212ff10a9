// Package functions_test checks the Lambda functions as a set: that each
// folder holds only a wiring main.go, that none links what it never uses
// (the local home, the Streams change feed), that every one cross-compiles
// for the Lambda runtime, and (template_test.go) that template.yaml deploys
// exactly these functions with what they need.
package functions_test

import (
	"debug/elf"
	"errors"
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
	"github.com/goodfaith/goodfaith/internal/notify/awsnotify"
	"github.com/goodfaith/goodfaith/internal/signer/kmssigner"
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
// belongs in internal/. The adapters whose constructors a main.go names in
// its app.Needs (kmssigner.ReadPSOKeys, awsnotify.Senders) are wiring too:
// naming them there, not in internal/app, is what keeps their SDK clients
// out of the functions that do not use them.
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
	"github.com/goodfaith/goodfaith/internal/notify/awsnotify",
	"github.com/goodfaith/goodfaith/internal/signer/kmssigner",
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

// neverInFunctions are packages no function uses: the one-machine home and
// the local servers, and the change feed that tools read from DynamoDB
// Streams (a function subscribed to the stream gets its records as events).
// A function that linked them would initialize them in each cold start and
// carry them in its binary.
var neverInFunctions = []string{
	"github.com/goodfaith/goodfaith/internal/app/localhome",
	"github.com/goodfaith/goodfaith/internal/store/boltstore",
	"github.com/goodfaith/goodfaith/internal/blob/dirblob",
	"github.com/goodfaith/goodfaith/internal/signal/localws",
	"github.com/goodfaith/goodfaith/internal/ice/turnserver",
	"go.etcd.io/bbolt",
	"github.com/coder/websocket",
	"github.com/pion/turn/v2",
	"github.com/goodfaith/goodfaith/internal/store/dynamo/streamfeed",
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams",
}

func TestFunctionsDoNotLinkWhatTheyNeverUse(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list the functions' packages: %v", err)
	}
	for _, name := range functionNames(t) {
		// As deployed: the dependencies may differ by platform.
		cmd := exec.Command(gobin, "list", "-deps", "-tags", "lambda.norpc", "./"+name)
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
		out, err := cmd.Output()
		if err != nil {
			var stderr []byte
			if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
				stderr = ee.Stderr
			}
			t.Fatalf("go list -deps ./functions/%s: %v\n%s", name, err, stderr)
		}
		deps := strings.Fields(string(out))
		if !slices.Contains(deps, "github.com/goodfaith/goodfaith/internal/app") {
			t.Fatalf("go list -deps ./functions/%s does not list internal/app: %q", name, deps)
		}
		for _, pkg := range neverInFunctions {
			if slices.Contains(deps, pkg) {
				t.Errorf("functions/%s links %s, which no function uses", name, pkg)
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

// functionNeeds are the Needs each functions/<name>/main.go passes to
// app.Build: the literal as main.go spells it, and its value.
// TestEachFunctionHasItsNeeds holds main.go to the literal, and
// template_test.go the template's grants to the value.
var functionNeeds = map[string]struct {
	literal string
	needs   app.Needs
}{
	"patient":  {"app.Needs{}", app.Needs{}},
	"provider": {"app.Needs{PSOKeys: kmssigner.ReadPSOKeys}", app.Needs{PSOKeys: kmssigner.ReadPSOKeys}},
	"clinic":   {"app.Needs{Senders: awsnotify.Senders}", app.Needs{Senders: awsnotify.Senders}}, // invites
	"public":   {"app.Needs{PSOKeys: kmssigner.ReadPSOKeys, RetiredPSOKeys: true}", app.Needs{PSOKeys: kmssigner.ReadPSOKeys, RetiredPSOKeys: true}},
	"dispatch": {"app.Needs{Senders: awsnotify.Senders}", app.Needs{Senders: awsnotify.Senders}}, // the dispatcher's notifications
	"sweep":    {"app.Needs{}", app.Needs{}},
	"webhooks": {"app.Needs{}", app.Needs{}},
	"close":    {"app.Needs{}", app.Needs{}},
	"signal":   {"app.Needs{}", app.Needs{}},
}

// TestEachFunctionHasItsNeeds: every function builds its app with
// app.Build and its own Needs (functionNeeds), and serves only its
// own routes.
func TestEachFunctionHasItsNeeds(t *testing.T) {
	for _, name := range functionNames(t) {
		want, ok := functionNeeds[name]
		if !ok {
			t.Errorf("functionNeeds does not know functions/%s", name)
			continue
		}
		src, err := os.ReadFile(filepath.Join(name, "main.go"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(src), "app.Build(") || !strings.Contains(string(src), "os.Getenv, "+want.literal+")") {
			t.Errorf("functions/%s/main.go does not build its app with app.Build(ctx, os.Getenv, %s)", name, want.literal)
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

// TestFunctionsLinkOnlyTheirSDKClients: a function links (and so
// initializes at every cold start: Go runs the init of every package a
// binary imports) the KMS client only if its Needs read PSO keys, and the
// SES and SNS clients only if they send; internal/app links none of them.
func TestFunctionsLinkOnlyTheirSDKClients(t *testing.T) {
	const kms, ses, sns = "github.com/aws/aws-sdk-go-v2/service/kms", "github.com/aws/aws-sdk-go-v2/service/sesv2", "github.com/aws/aws-sdk-go-v2/service/sns"
	out, err := exec.Command("go", "list", "-tags", "lambda.norpc", "-f", `{{.ImportPath}} {{join .Deps " "}}`, "./...", "../internal/app").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		deps[f[0]] = f[1:]
	}
	if d, ok := deps["github.com/goodfaith/goodfaith/internal/app"]; !ok || slices.Contains(d, kms) || slices.Contains(d, ses) || slices.Contains(d, sns) {
		t.Errorf("internal/app imports the KMS, SES or SNS client (or go list did not list it: %v)", ok)
	}
	for _, name := range functionNames(t) {
		d, ok := deps["github.com/goodfaith/goodfaith/functions/"+name]
		if !ok {
			t.Errorf("go list did not list functions/%s", name)
			continue
		}
		n := functionNeeds[name].needs
		if got, want := slices.Contains(d, kms), n.PSOKeys != nil; got != want {
			t.Errorf("functions/%s links the KMS client: %v; its Needs read PSO keys: %v", name, got, want)
		}
		for _, svc := range []string{ses, sns} {
			if got, want := slices.Contains(d, svc), n.Senders != nil; got != want {
				t.Errorf("functions/%s links %s: %v; its Needs send: %v", name, svc, got, want)
			}
		}
	}
}
