package functions_test

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/goodfaith/goodfaith/internal/app"
)

const templateFile = "../template.yaml"

// ---- reading CloudFormation YAML

// cfnValue turns a YAML node into plain Go values (map[string]any, []any,
// string, bool, int, float64), writing the short forms of the intrinsic
// functions (!Ref X, !GetAtt A.B, !Sub s, !If [...] …) in their long JSON
// forms ({"Ref": "X"}, {"Fn::GetAtt": ["A", "B"]}, {"Fn::Sub": "s"} …).
func cfnValue(t *testing.T, n *yaml.Node) any {
	t.Helper()
	switch n.Kind {
	case yaml.DocumentNode:
		return cfnValue(t, n.Content[0])
	case yaml.AliasNode:
		return cfnValue(t, n.Alias)
	}
	var v any
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[n.Content[i].Value] = cfnValue(t, n.Content[i+1])
		}
		v = m
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			s = append(s, cfnValue(t, c))
		}
		v = s
	case yaml.ScalarNode:
		if strings.HasPrefix(n.Tag, "!!") || n.Tag == "" {
			if err := n.Decode(&v); err != nil {
				t.Fatalf("line %d: %v", n.Line, err)
			}
		} else {
			v = n.Value
		}
	}
	if !strings.HasPrefix(n.Tag, "!") || strings.HasPrefix(n.Tag, "!!") {
		return v
	}
	fn := strings.TrimPrefix(n.Tag, "!")
	switch fn {
	case "Ref", "Condition":
		return map[string]any{fn: v}
	case "GetAtt":
		if s, ok := v.(string); ok {
			res, attr, _ := strings.Cut(s, ".")
			v = []any{res, attr}
		}
	}
	return map[string]any{"Fn::" + fn: v}
}

type template struct {
	t         *testing.T
	Globals   map[string]any
	Resources map[string]map[string]any
	Outputs   map[string]any
}

func loadTemplate(t *testing.T) template {
	t.Helper()
	raw, err := os.ReadFile(templateFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	root, ok := cfnValue(t, &doc).(map[string]any)
	if !ok {
		t.Fatal("template.yaml is not a mapping")
	}
	if root["Transform"] != "AWS::Serverless-2016-10-31" {
		t.Errorf("Transform = %v", root["Transform"])
	}
	tp := template{t: t, Globals: asMap(root["Globals"]), Outputs: asMap(root["Outputs"]), Resources: map[string]map[string]any{}}
	for name, r := range asMap(root["Resources"]) {
		tp.Resources[name] = asMap(r)
	}
	return tp
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// get walks keys (map keys, or list indexes as numbers) down from v.
func get(v any, path ...string) any {
	for _, k := range path {
		switch c := v.(type) {
		case map[string]any:
			v = c[k]
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(c) {
				return nil
			}
			v = c[i]
		default:
			return nil
		}
	}
	return v
}

func list(v any) []any {
	switch c := v.(type) {
	case []any:
		return c
	case nil:
		return nil
	default:
		return []any{c}
	}
}

// target is the resource a Ref or GetAtt names ("" for anything else).
func target(v any) string {
	m := asMap(v)
	if r, ok := m["Ref"].(string); ok {
		return r
	}
	if ga := list(m["Fn::GetAtt"]); len(ga) > 0 {
		s, _ := ga[0].(string)
		return s
	}
	return ""
}

func (tp template) ofType(typ string) []string {
	var names []string
	for name, r := range tp.Resources {
		if r["Type"] == typ {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// functionProps are a function's properties with the Globals applied as SAM
// applies them: a property set on the function wins, except the
// environment, whose variables merge.
func (tp template) functionProps(name string) map[string]any {
	props := map[string]any{}
	for k, v := range asMap(get(tp.Globals, "Function")) {
		props[k] = v
	}
	own := asMap(tp.Resources[name]["Properties"])
	for k, v := range own {
		props[k] = v
	}
	vars := map[string]any{}
	for k, v := range asMap(get(tp.Globals, "Function", "Environment", "Variables")) {
		vars[k] = v
	}
	for k, v := range asMap(get(own, "Environment", "Variables")) {
		vars[k] = v
	}
	props["Environment"] = map[string]any{"Variables": vars}
	return props
}

// functionsByFolder maps each functions/<folder> to the function resources
// built from it.
func (tp template) functionsByFolder() map[string][]string {
	out := map[string][]string{}
	for _, name := range tp.ofType("AWS::Serverless::Function") {
		uri, _ := tp.functionProps(name)["CodeUri"].(string)
		folder, ok := strings.CutPrefix(strings.TrimSuffix(filepath.ToSlash(uri), "/"), "functions/")
		if !ok {
			folder = "?" + uri
		}
		out[folder] = append(out[folder], name)
	}
	return out
}

// ---- the checks

func TestTemplateHasOneFunctionPerFolder(t *testing.T) {
	tp := loadTemplate(t)
	byFolder := tp.functionsByFolder()
	folders := functionNames(t)
	for _, f := range folders {
		if n := len(byFolder[f]); n != 1 {
			t.Errorf("functions/%s has %d function resources (%v); want exactly one", f, n, byFolder[f])
		}
	}
	for f, names := range byFolder {
		if !slices.Contains(folders, f) {
			t.Errorf("function resources %v build from %q, which is not a functions/ folder", names, f)
		}
	}
}

func TestTemplateFunctionsRunOnARMAndAL2023(t *testing.T) {
	tp := loadTemplate(t)
	for _, name := range tp.ofType("AWS::Serverless::Function") {
		p := tp.functionProps(name)
		if p["Runtime"] != "provided.al2023" {
			t.Errorf("%s: Runtime %v, want provided.al2023", name, p["Runtime"])
		}
		if a := list(p["Architectures"]); len(a) != 1 || a[0] != "arm64" {
			t.Errorf("%s: Architectures %v, want [arm64]", name, p["Architectures"])
		}
		if p["Handler"] != "bootstrap" {
			t.Errorf("%s: Handler %v, want bootstrap", name, p["Handler"])
		}
		if m := get(tp.Resources[name], "Metadata", "BuildMethod"); m != "go1.x" {
			t.Errorf("%s: Metadata.BuildMethod %v, want go1.x", name, m)
		}
		if role := target(p["Role"]); tp.Resources[role]["Type"] != "AWS::IAM::Role" {
			t.Errorf("%s: Role %v is not a role of the template", name, p["Role"])
		}
		if p["Policies"] != nil {
			t.Errorf("%s: Policies are set; permissions belong in its role, where the tests can read them", name)
		}
	}
}

// envRead is every variable app.FromEnv reads, found by running it on an
// empty environment (it reads all of them before it reports any).
func envRead(t *testing.T) []string {
	var mu sync.Mutex
	seen := map[string]bool{}
	_, _, err := app.FromEnv(context.Background(), func(name string) string {
		mu.Lock()
		defer mu.Unlock()
		seen[name] = true
		return ""
	})
	if err == nil {
		t.Fatal("FromEnv accepted an empty environment")
	}
	var names []string
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func TestTemplateSetsTheEnvironmentFromEnvReads(t *testing.T) {
	tp := loadTemplate(t)
	notInTemplate := []string{app.EnvRegion, app.EnvDynamoDBEndpoint, app.EnvS3Endpoint}
	read := envRead(t)
	if len(read) < 10 {
		t.Fatalf("FromEnv reads only %v", read)
	}
	for _, name := range tp.ofType("AWS::Serverless::Function") {
		vars := asMap(get(tp.functionProps(name), "Environment", "Variables"))
		for _, v := range read {
			_, set := vars[v]
			switch {
			case slices.Contains(notInTemplate, v) && set:
				t.Errorf("%s sets %s, which is the runtime's or a test override", name, v)
			case !slices.Contains(notInTemplate, v) && !set:
				t.Errorf("%s does not set %s, which app.FromEnv reads", name, v)
			}
		}
		for _, secret := range []string{app.EnvPatientTokenSecret, app.EnvPSOSigningKeyPEM} {
			sub, _ := get(vars, secret, "Fn::Sub").(string)
			if !strings.HasPrefix(sub, "{{resolve:secretsmanager:") {
				t.Errorf("%s: %s = %v, want a Secrets Manager dynamic reference", name, secret, vars[secret])
			}
		}
	}
}

func TestTemplateAllowsNamedActionsOnly(t *testing.T) {
	tp := loadTemplate(t)
	type doc struct {
		where string
		body  any
		iam   bool // an identity policy: resources must be named too
	}
	var docs []doc
	for name, r := range tp.Resources {
		props := asMap(r["Properties"])
		switch r["Type"] {
		case "AWS::IAM::Role":
			docs = append(docs, doc{name + " trust policy", props["AssumeRolePolicyDocument"], false})
			for i, p := range list(props["Policies"]) {
				docs = append(docs, doc{fmt.Sprintf("%s policy %d", name, i), get(p, "PolicyDocument"), true})
			}
		case "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy":
			docs = append(docs, doc{name, props["PolicyDocument"], true})
		case "AWS::S3::BucketPolicy", "AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy":
			docs = append(docs, doc{name, props["PolicyDocument"], false})
		case "AWS::KMS::Key":
			docs = append(docs, doc{name + " key policy", props["KeyPolicy"], false})
		case "AWS::SecretsManager::ResourcePolicy":
			docs = append(docs, doc{name, props["ResourcePolicy"], false})
		}
	}
	if len(docs) < 8 {
		t.Fatalf("found only %d policy documents", len(docs))
	}
	for _, d := range docs {
		stmts := list(get(d.body, "Statement"))
		if len(stmts) == 0 {
			t.Errorf("%s has no statements", d.where)
		}
		for i, s := range stmts {
			if get(s, "NotAction") != nil || get(s, "NotResource") != nil {
				t.Errorf("%s statement %d uses NotAction/NotResource", d.where, i)
			}
			// Deny statements may be broad: denying more is safer.
			if get(s, "Effect") != "Allow" {
				continue
			}
			actions := list(get(s, "Action"))
			if len(actions) == 0 {
				t.Errorf("%s statement %d allows no named action", d.where, i)
			}
			for _, a := range actions {
				if str, ok := a.(string); !ok || strings.Contains(str, "*") {
					t.Errorf("%s statement %d allows %v; name each action", d.where, i, a)
				}
			}
			if d.iam {
				res := list(get(s, "Resource"))
				if len(res) == 0 {
					t.Errorf("%s statement %d names no resource", d.where, i)
				}
				for _, r := range res {
					if r == "*" {
						t.Errorf("%s statement %d allows every resource; name them", d.where, i)
					}
				}
			}
		}
	}
}

func TestTemplateBucketIsLockedEncryptedAndPrivate(t *testing.T) {
	tp := loadTemplate(t)
	buckets := tp.ofType("AWS::S3::Bucket")
	if len(buckets) != 1 {
		t.Fatalf("buckets %v; want one", buckets)
	}
	name := buckets[0]
	b := asMap(tp.Resources[name]["Properties"])
	if b["ObjectLockEnabled"] != true {
		t.Error("Object Lock is not enabled")
	}
	if get(b, "VersioningConfiguration", "Status") != "Enabled" {
		t.Error("versioning is not enabled")
	}
	sse := get(b, "BucketEncryption", "ServerSideEncryptionConfiguration", "0", "ServerSideEncryptionByDefault")
	if get(sse, "SSEAlgorithm") != "aws:kms" || tp.Resources[target(get(sse, "KMSMasterKeyID"))]["Type"] != "AWS::KMS::Key" {
		t.Errorf("default encryption %v; want SSE-KMS under the template's key", sse)
	}
	for _, k := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
		if get(b, "PublicAccessBlockConfiguration", k) != true {
			t.Errorf("PublicAccessBlockConfiguration.%s is not true", k)
		}
	}
	cors := get(b, "CorsConfiguration", "CorsRules", "0")
	if !slices.Contains(list(get(cors, "AllowedMethods")), any("PUT")) {
		t.Error("CORS does not allow the presigned PUT")
	}
	for _, h := range []string{"Content-Type", "If-None-Match", "x-amz-server-side-encryption*"} {
		if !slices.Contains(list(get(cors, "AllowedHeaders")), any(h)) {
			t.Errorf("CORS does not allow the signed header %s", h)
		}
	}
	var tlsOnly bool
	for _, p := range tp.ofType("AWS::S3::BucketPolicy") {
		props := asMap(tp.Resources[p]["Properties"])
		if target(props["Bucket"]) != name {
			continue
		}
		for _, s := range list(get(props, "PolicyDocument", "Statement")) {
			if get(s, "Effect") == "Deny" && get(s, "Condition", "Bool", "aws:SecureTransport") == "false" {
				tlsOnly = true
			}
		}
	}
	if !tlsOnly {
		t.Error("no bucket policy denies requests without TLS")
	}
	if want := name; tp.functionEnvTarget(t, app.EnvBucketName) != want {
		t.Errorf("BUCKET_NAME does not name %s", want)
	}
}

// functionEnvTarget is the resource a Globals environment variable refers to.
func (tp template) functionEnvTarget(t *testing.T, v string) string {
	t.Helper()
	return target(get(tp.Globals, "Function", "Environment", "Variables", v))
}

// The schema of internal/store/dynamo (doc.go).
func TestTemplateTableMatchesTheDynamoAdapter(t *testing.T) {
	tp := loadTemplate(t)
	tables := tp.ofType("AWS::DynamoDB::Table")
	if len(tables) != 1 {
		t.Fatalf("tables %v; want one", tables)
	}
	tb := asMap(tp.Resources[tables[0]]["Properties"])
	keys := func(v any) string {
		var parts []string
		for _, k := range list(v) {
			parts = append(parts, fmt.Sprintf("%v %v", get(k, "AttributeName"), get(k, "KeyType")))
		}
		return strings.Join(parts, ", ")
	}
	var attrs []string
	for _, a := range list(tb["AttributeDefinitions"]) {
		attrs = append(attrs, fmt.Sprintf("%v %v", get(a, "AttributeName"), get(a, "AttributeType")))
	}
	sort.Strings(attrs)
	expectEq(t, "attributes", strings.Join(attrs, ", "), "gsi1pk S, gsi1sk S, gsi2pk S, gsi2sk S, pk S, sk S")
	expectEq(t, "key schema", keys(tb["KeySchema"]), "pk HASH, sk RANGE")
	gsis := list(tb["GlobalSecondaryIndexes"])
	if len(gsis) != 2 {
		t.Fatalf("%d global secondary indexes; want gsi1 and gsi2", len(gsis))
	}
	for i, g := range gsis {
		n := fmt.Sprintf("gsi%d", i+1)
		expectEq(t, "index name", get(g, "IndexName"), any(n))
		expectEq(t, n+" keys", keys(get(g, "KeySchema")), n+"pk HASH, "+n+"sk RANGE")
		expectEq(t, n+" projection", get(g, "Projection", "ProjectionType"), any("ALL"))
	}
	expectEq(t, "billing", tb["BillingMode"], any("PAY_PER_REQUEST"))
	expectEq(t, "stream", get(tb, "StreamSpecification", "StreamViewType"), any("NEW_AND_OLD_IMAGES"))
	expectEq(t, "ttl attribute", get(tb, "TimeToLiveSpecification", "AttributeName"), any("ttl"))
	expectEq(t, "ttl", get(tb, "TimeToLiveSpecification", "Enabled"), any(true))
	expectEq(t, "point-in-time recovery", get(tb, "PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled"), any(true))
	expectEq(t, "encryption", get(tb, "SSESpecification", "SSEEnabled"), any(true))
	expectEq(t, "TABLE_NAME", tp.functionEnvTarget(t, app.EnvTableName), tables[0])
}

func TestTemplateDispatchReadsTheStreamWithPartialFailures(t *testing.T) {
	tp := loadTemplate(t)
	fns := tp.functionsByFolder()["dispatch"]
	if len(fns) != 1 {
		t.Fatalf("dispatch functions %v", fns)
	}
	var streams []any
	for _, e := range asMap(tp.functionProps(fns[0])["Events"]) {
		if get(e, "Type") == "DynamoDB" {
			streams = append(streams, get(e, "Properties"))
		}
	}
	if len(streams) != 1 {
		t.Fatalf("dispatch has %d DynamoDB stream events; want one", len(streams))
	}
	s := streams[0]
	if tp.Resources[target(get(s, "Stream"))]["Type"] != "AWS::DynamoDB::Table" {
		t.Errorf("the stream %v is not the table's", get(s, "Stream"))
	}
	if !slices.Contains(list(get(s, "FunctionResponseTypes")), any("ReportBatchItemFailures")) {
		t.Error("FunctionResponseTypes lacks ReportBatchItemFailures: partial failures would be ignored")
	}
	expectEq(t, "bisect", get(s, "BisectBatchOnFunctionError"), any(true))
	if n, ok := get(s, "MaximumRetryAttempts").(int); !ok || n < 1 {
		t.Errorf("MaximumRetryAttempts = %v; want a limit", get(s, "MaximumRetryAttempts"))
	}
	if tp.Resources[target(get(s, "DestinationConfig", "OnFailure", "Destination"))]["Type"] != "AWS::SQS::Queue" {
		t.Errorf("the on-failure destination %v is not a queue of the template", get(s, "DestinationConfig"))
	}
}

// apiRoute is one route of internal/httpapi.
type apiRoute struct {
	folder, method, path string
}

// httpapiRoutes reads the route tables of internal/httpapi: the routes
// mounted in <audience>.go belong to functions/<audience>. The dev routes
// are never mounted in AWS.
func httpapiRoutes(t *testing.T, folders []string) []apiRoute {
	t.Helper()
	var routes []apiRoute
	for _, folder := range folders {
		file := filepath.Join("..", "internal", "httpapi", folder+".go")
		if _, err := os.Stat(file); err != nil {
			continue // not an API function
		}
		f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil || fd.Name.Name == "devRoutes" {
				continue
			}
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok || len(call.Args) < 2 {
					return true
				}
				if sel, ok := call.Fun.(*ast.SelectorExpr); !ok || sel.Sel.Name != "handle" {
					return true
				}
				lit, ok := call.Args[1].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return true
				}
				pattern, _ := strconv.Unquote(lit.Value)
				method, path, ok := strings.Cut(pattern, " ")
				if !ok {
					t.Errorf("%s: route %q has no method", file, pattern)
					return true
				}
				routes = append(routes, apiRoute{folder: folder, method: method, path: path})
				return true
			})
		}
	}
	return routes
}

// samplePath fills a ServeMux pattern's wildcards.
func samplePath(pattern string) string {
	segs := strings.Split(pattern, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, "{") {
			segs[i] = "sample"
		}
	}
	return strings.Join(segs, "/")
}

// routeScore tells whether an HTTP API route path matches path and how
// specific it is (API Gateway picks the most specific match): a full match
// of literals beats one with parameters, which beats a greedy {proxy+}.
func routeScore(route, path string) (int, bool) {
	rs := strings.Split(strings.Trim(route, "/"), "/")
	ps := strings.Split(strings.Trim(path, "/"), "/")
	score, greedy, params := 0, false, false
	for i, r := range rs {
		if strings.HasSuffix(r, "+}") {
			if i != len(rs)-1 || i >= len(ps) {
				return 0, false
			}
			greedy = true
			break
		}
		if i >= len(ps) {
			return 0, false
		}
		if strings.HasPrefix(r, "{") {
			params = true
			continue
		}
		if r != ps[i] {
			return 0, false
		}
		score++
	}
	if !greedy && len(rs) != len(ps) {
		return 0, false
	}
	switch {
	case !greedy && !params:
		score += 2000
	case !greedy:
		score += 1000
	}
	return score, true
}

func TestTemplateRoutesEveryAPIRouteToItsFunction(t *testing.T) {
	tp := loadTemplate(t)
	type event struct{ fn, folder, method, path string }
	var evs []event
	for folder, fns := range tp.functionsByFolder() {
		for _, fn := range fns {
			for en, e := range asMap(tp.functionProps(fn)["Events"]) {
				if get(e, "Type") != "HttpApi" {
					continue
				}
				p := asMap(get(e, "Properties"))
				if tp.Resources[target(p["ApiId"])]["Type"] != "AWS::Serverless::HttpApi" {
					t.Errorf("%s.%s is not on the template's HTTP API", fn, en)
				}
				if p["PayloadFormatVersion"] != "2.0" {
					t.Errorf("%s.%s: PayloadFormatVersion %v; internal/lambdahttp reads 2.0", fn, en, p["PayloadFormatVersion"])
				}
				method, _ := p["Method"].(string)
				path, _ := p["Path"].(string)
				evs = append(evs, event{fn: fn, folder: folder, method: strings.ToUpper(method), path: path})
			}
		}
	}
	for _, api := range tp.ofType("AWS::Serverless::HttpApi") {
		props := asMap(tp.Resources[api]["Properties"])
		if s, ok := props["StageName"]; ok && s != "$default" {
			t.Errorf("%s: stage %v; internal/lambdahttp needs $default (no stage prefix in rawPath)", api, s)
		}
		if props["CorsConfiguration"] != nil {
			t.Errorf("%s: CorsConfiguration would answer preflights before the app, which sets CORS per clinic", api)
		}
	}

	routes := httpapiRoutes(t, functionNames(t))
	if len(routes) < 15 {
		t.Fatalf("found only %d routes in internal/httpapi", len(routes))
	}
	for _, r := range routes {
		path := samplePath(r.path)
		best, bestScore := -1, -1
		for i, e := range evs {
			if e.method != "ANY" && e.method != r.method {
				continue
			}
			score, ok := routeScore(e.path, path)
			if !ok {
				continue
			}
			if e.method == r.method {
				score++ // an exact method beats ANY on the same path
			}
			if score > bestScore {
				best, bestScore = i, score
			}
		}
		switch {
		case best < 0:
			t.Errorf("%s %s (internal/httpapi/%s.go) has no route in template.yaml", r.method, r.path, r.folder)
		case evs[best].folder != r.folder:
			t.Errorf("%s %s (internal/httpapi/%s.go) goes to %s (functions/%s)", r.method, r.path, r.folder, evs[best].fn, evs[best].folder)
		}
		// Browsers send a preflight OPTIONS, which the app answers.
		if best >= 0 && evs[best].method != "ANY" {
			t.Errorf("%s %s: route %s %s; want ANY so that CORS preflights reach the app", r.method, r.path, evs[best].method, evs[best].path)
		}
	}
	if _, ok := tp.Outputs["ApiUrl"]; !ok {
		t.Error("no ApiUrl output")
	}
}

func TestRouteScore(t *testing.T) {
	cases := []struct {
		route, path string
		ok          bool
	}{
		{"/v1/exams", "/v1/exams", true},
		{"/v1/exams/{proxy+}", "/v1/exams", false},
		{"/v1/exams/{proxy+}", "/v1/exams/a/b", true},
		{"/v1/exams/{id}", "/v1/exams/a", true},
		{"/v1/exams/{id}", "/v1/exams/a/b", false},
		{"/v1/clinic/{proxy+}", "/v1/exams/a", false},
	}
	for _, c := range cases {
		if _, ok := routeScore(c.route, c.path); ok != c.ok {
			t.Errorf("routeScore(%q, %q) = %v", c.route, c.path, ok)
		}
	}
	exact, _ := routeScore("/v1/exams/a", "/v1/exams/a")
	param, _ := routeScore("/v1/exams/{id}", "/v1/exams/a")
	greedy, _ := routeScore("/v1/{proxy+}", "/v1/exams/a")
	longer, _ := routeScore("/v1/exams/{proxy+}", "/v1/exams/a")
	if !(exact > param && param > longer && longer > greedy) {
		t.Errorf("scores exact %d, param %d, longer greedy %d, greedy %d", exact, param, longer, greedy)
	}
}

func expectEq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// ---- identity, alarms, failure handling, linting

// sameRef tells whether two template values are the same Ref/GetAtt.
func sameRef(a, b any) bool { return fmt.Sprint(a) == fmt.Sprint(b) && a != nil }

func TestTemplateUserPoolRequiresMFAAndAdminCreatedUsers(t *testing.T) {
	tp := loadTemplate(t)
	pools := tp.ofType("AWS::Cognito::UserPool")
	if len(pools) != 1 {
		t.Fatalf("user pools %v; want one", pools)
	}
	pool := asMap(tp.Resources[pools[0]]["Properties"])
	expectEq(t, "MfaConfiguration", pool["MfaConfiguration"], any("ON"))
	if !slices.Contains(list(pool["EnabledMfas"]), any("SOFTWARE_TOKEN_MFA")) {
		t.Errorf("EnabledMfas %v; want SOFTWARE_TOKEN_MFA", pool["EnabledMfas"])
	}
	expectEq(t, "AllowAdminCreateUserOnly", get(pool, "AdminCreateUserConfig", "AllowAdminCreateUserOnly"), any(true))
	if n, _ := get(pool, "Policies", "PasswordPolicy", "MinimumLength").(int); n < 12 {
		t.Errorf("password minimum length %v; want 12 or more", get(pool, "Policies", "PasswordPolicy", "MinimumLength"))
	}
	var groups []string
	for _, g := range tp.ofType("AWS::Cognito::UserPoolGroup") {
		p := asMap(tp.Resources[g]["Properties"])
		if target(p["UserPoolId"]) == pools[0] {
			groups = append(groups, fmt.Sprint(p["GroupName"]))
		}
	}
	sort.Strings(groups)
	expectEq(t, "groups", strings.Join(groups, ","), "clinic-admins,providers")
	clients := tp.ofType("AWS::Cognito::UserPoolClient")
	if len(clients) != 1 {
		t.Fatalf("app clients %v; want one", clients)
	}
	client := asMap(tp.Resources[clients[0]]["Properties"])
	if target(client["UserPoolId"]) != pools[0] || client["GenerateSecret"] != false {
		t.Errorf("app client %v; want a public client of the pool", client)
	}
	// The code verifies provider tokens against this pool and client.
	vars := asMap(get(tp.Globals, "Function", "Environment", "Variables"))
	if target(vars[app.EnvProviderIssuer]) != pools[0] || target(vars[app.EnvProviderAudience]) != clients[0] {
		t.Errorf("PROVIDER_ISSUER %v / PROVIDER_AUDIENCE %v are not the pool's issuer and client", vars[app.EnvProviderIssuer], vars[app.EnvProviderAudience])
	}
	if sub, _ := get(vars, app.EnvProviderJWKSURL, "Fn::Sub").(string); sub != "${"+pools[0]+".ProviderURL}/.well-known/jwks.json" {
		t.Errorf("PROVIDER_JWKS_URL %v is not the pool's JWKS", vars[app.EnvProviderJWKSURL])
	}
}

// Provider routes pass the JWT authorizer (defence in depth), with an
// unauthorized OPTIONS route beside each for preflights; no other route
// does: clinic routes take sk_ keys, patient and public routes no JWT.
func TestTemplateAuthorizerGuardsProviderRoutesOnly(t *testing.T) {
	tp := loadTemplate(t)
	apis := tp.ofType("AWS::Serverless::HttpApi")
	if len(apis) != 1 {
		t.Fatalf("HTTP APIs %v", apis)
	}
	authorizers := asMap(get(tp.Resources[apis[0]], "Properties", "Auth", "Authorizers"))
	if len(authorizers) != 1 {
		t.Fatalf("authorizers %v; want one", authorizers)
	}
	if d := get(tp.Resources[apis[0]], "Properties", "Auth", "DefaultAuthorizer"); d != nil {
		t.Errorf("DefaultAuthorizer %v would put the patient, clinic and public routes behind a JWT", d)
	}
	var authName string
	for name, a := range authorizers {
		authName = name
		jwt := get(a, "JwtConfiguration")
		pool := tp.ofType("AWS::Cognito::UserPool")
		if !sameRef(get(jwt, "issuer"), map[string]any{"Fn::GetAtt": []any{pool[0], "ProviderURL"}}) {
			t.Errorf("authorizer issuer %v is not the user pool's", get(jwt, "issuer"))
		}
		aud := list(get(jwt, "audience"))
		if len(aud) != 1 || tp.Resources[target(aud[0])]["Type"] != "AWS::Cognito::UserPoolClient" {
			t.Errorf("authorizer audience %v is not the app client", aud)
		}
		expectEq(t, "identity source", get(a, "IdentitySource"), any("$request.header.Authorization"))
	}
	for folder, fns := range tp.functionsByFolder() {
		for _, fn := range fns {
			evs := asMap(tp.functionProps(fn)["Events"])
			for en, e := range evs {
				if get(e, "Type") != "HttpApi" {
					continue
				}
				p := asMap(get(e, "Properties"))
				auth := get(p, "Auth", "Authorizer")
				switch {
				case folder == "provider" && p["Method"] == "OPTIONS":
					if auth != nil && auth != "NONE" {
						t.Errorf("%s.%s: the preflight route is behind %v; browsers send no token on preflights", fn, en, auth)
					}
				case folder == "provider":
					if auth != authName {
						t.Errorf("%s.%s (%v %v) is not behind the JWT authorizer", fn, en, p["Method"], p["Path"])
					}
					var preflight bool
					for _, o := range evs {
						op := asMap(get(o, "Properties"))
						preflight = preflight || (get(o, "Type") == "HttpApi" && op["Method"] == "OPTIONS" && op["Path"] == p["Path"] && get(op, "Auth", "Authorizer") == nil)
					}
					if !preflight {
						t.Errorf("%s.%s (%v) has no unauthorized OPTIONS route for preflights", fn, en, p["Path"])
					}
				default:
					if auth != nil && auth != "NONE" {
						t.Errorf("%s.%s (functions/%s) is behind %v; only provider routes take Cognito tokens", fn, en, folder, auth)
					}
				}
			}
		}
	}
}

// alarmsOn lists the alarms whose metric has dimension dim = a Ref/GetAtt
// of resource.
func (tp template) alarmsOn(namespace, metric, dim, resource string) []string {
	var out []string
	for _, a := range tp.ofType("AWS::CloudWatch::Alarm") {
		p := asMap(tp.Resources[a]["Properties"])
		if p["Namespace"] != namespace || p["MetricName"] != metric || len(list(p["AlarmActions"])) == 0 {
			continue
		}
		for _, d := range list(p["Dimensions"]) {
			if get(d, "Name") == dim && target(get(d, "Value")) == resource {
				out = append(out, a)
			}
		}
	}
	return out
}

func TestTemplateAlarmsOnEveryFunctionAndQueue(t *testing.T) {
	tp := loadTemplate(t)
	for _, fn := range tp.ofType("AWS::Serverless::Function") {
		if len(tp.alarmsOn("AWS/Lambda", "Errors", "FunctionName", fn)) == 0 {
			t.Errorf("%s has no alarm on its Errors", fn)
		}
	}
	queues := tp.ofType("AWS::SQS::Queue")
	if len(queues) == 0 {
		t.Fatal("no queues")
	}
	for _, q := range queues {
		if len(tp.alarmsOn("AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", q)) == 0 {
			t.Errorf("queue %s has no depth alarm", q)
		}
	}
	for _, a := range tp.ofType("AWS::CloudWatch::Alarm") {
		for _, action := range list(get(tp.Resources[a], "Properties", "AlarmActions")) {
			if tp.Resources[target(action)]["Type"] != "AWS::SNS::Topic" {
				t.Errorf("alarm %s notifies %v, not a topic of the template", a, action)
			}
		}
	}
}

// Every asynchronous invocation — a stream, a queue, a schedule — ends,
// after its retries, in a queue of the template that has a depth alarm.
func TestTemplateEveryAsyncConsumerHasADeadLetterQueue(t *testing.T) {
	tp := loadTemplate(t)
	isQueue := func(v any) bool { return tp.Resources[target(v)]["Type"] == "AWS::SQS::Queue" }
	var consumers int
	for _, fn := range tp.ofType("AWS::Serverless::Function") {
		for en, e := range asMap(tp.functionProps(fn)["Events"]) {
			p := asMap(get(e, "Properties"))
			switch typ := get(e, "Type"); typ {
			case "HttpApi", "Api":
				continue // synchronous: the caller sees the error
			case "DynamoDB", "Kinesis":
				consumers++
				if !isQueue(get(p, "DestinationConfig", "OnFailure", "Destination")) {
					t.Errorf("%s.%s (%v) has no on-failure queue", fn, en, typ)
				}
				if !slices.Contains(list(p["FunctionResponseTypes"]), any("ReportBatchItemFailures")) {
					t.Errorf("%s.%s does not report partial batch failures", fn, en)
				}
			case "SQS":
				consumers++
				q := target(p["Queue"])
				if !isQueue(get(tp.Resources[q], "Properties", "RedrivePolicy", "deadLetterTargetArn")) {
					t.Errorf("%s.%s: queue %s has no RedrivePolicy to a dead-letter queue", fn, en, q)
				}
				if !slices.Contains(list(p["FunctionResponseTypes"]), any("ReportBatchItemFailures")) {
					t.Errorf("%s.%s does not report partial batch failures", fn, en)
				}
			case "Schedule", "ScheduleV2", "EventBridgeRule", "CloudWatchEvent":
				consumers++
				if !isQueue(get(p, "DeadLetterConfig", "Arn")) && !isQueue(get(p, "DeadLetterConfig", "Destination")) {
					t.Errorf("%s.%s (%v) has no dead-letter queue", fn, en, typ)
				}
			default:
				t.Errorf("%s.%s: event type %v is not known to this test; say how it fails", fn, en, typ)
			}
		}
	}
	for _, s := range tp.ofType("AWS::Scheduler::Schedule") {
		consumers++
		if !isQueue(get(tp.Resources[s], "Properties", "Target", "DeadLetterConfig", "Arn")) {
			t.Errorf("schedule %s has no dead-letter queue", s)
		}
	}
	if consumers == 0 {
		t.Fatal("no asynchronous consumers found; the dispatch stream at least should be one")
	}
}

// forbiddenActions may never be granted to a function: they delete or
// unlock what the store and the bucket must keep, or change the resources
// themselves.
var forbiddenActions = []string{
	"s3:DeleteObject", "s3:DeleteObjectVersion", "s3:BypassGovernanceRetention", "s3:PutObjectLegalHold",
	"s3:PutBucketObjectLockConfiguration", "s3:PutBucketPolicy", "s3:PutLifecycleConfiguration", "s3:DeleteBucket",
	"dynamodb:DeleteTable", "dynamodb:UpdateTable", "dynamodb:Scan", "dynamodb:UpdateContinuousBackups",
	"kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:PutKeyPolicy", "kms:CreateGrant",
	"iam:PassRole", "secretsmanager:GetSecretValue",
}

func TestTemplateFunctionRolesAreTheirOwnAndNarrow(t *testing.T) {
	tp := loadTemplate(t)
	users := map[string][]string{}
	for _, fn := range tp.ofType("AWS::Serverless::Function") {
		role := target(tp.functionProps(fn)["Role"])
		users[role] = append(users[role], fn)
	}
	for role, fns := range users {
		if len(fns) != 1 {
			t.Errorf("role %s is shared by %v; each function gets its own", role, fns)
		}
		props := asMap(tp.Resources[role]["Properties"])
		if props["ManagedPolicyArns"] != nil {
			t.Errorf("%s has managed policies %v; grant named actions in its own policy", role, props["ManagedPolicyArns"])
		}
		for _, pol := range list(props["Policies"]) {
			for i, s := range list(get(pol, "PolicyDocument", "Statement")) {
				if get(s, "Effect") != "Allow" {
					continue
				}
				for _, a := range list(get(s, "Action")) {
					for _, f := range forbiddenActions {
						if strings.EqualFold(fmt.Sprint(a), f) {
							t.Errorf("%s statement %d grants %s", role, i, f)
						}
					}
				}
				// Logs go to the function's own log group only.
				if slices.ContainsFunc(list(get(s, "Action")), func(a any) bool { return strings.HasPrefix(fmt.Sprint(a), "logs:") }) {
					lg := target(get(tp.functionProps(fns[0]), "LoggingConfig", "LogGroup"))
					for _, r := range list(get(s, "Resource")) {
						if target(r) != lg {
							t.Errorf("%s statement %d writes logs to %v, not %s's log group %s", role, i, r, fns[0], lg)
						}
					}
				}
			}
		}
	}
}

// TestTemplatePassesCfnLint runs AWS's CloudFormation linter (cfn-lint,
// which applies the SAM transform first) on template.yaml. It is installed
// on the project's machines (pip); a machine without it skips by hand and
// fails under CI.
func TestTemplatePassesCfnLint(t *testing.T) {
	bin, err := exec.LookPath("cfn-lint")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("cfn-lint is not installed; CI must lint the template (pip install cfn-lint)")
		}
		t.Skip("cfn-lint is not installed (pip install cfn-lint); CI runs this check")
	}
	out, err := exec.Command(bin, "--format", "parseable", templateFile).CombinedOutput()
	if err != nil {
		t.Fatalf("cfn-lint %s: %v\n%s", templateFile, err, out)
	}
}
