package functions_test

import (
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/goodfaith/goodfaith/internal/app"
	"github.com/goodfaith/goodfaith/internal/auth"
	"github.com/goodfaith/goodfaith/internal/cfn"
	"github.com/goodfaith/goodfaith/internal/lambdaschedule"
	"github.com/goodfaith/goodfaith/internal/notify/awsnotify"
	"github.com/goodfaith/goodfaith/internal/signer"
	"github.com/goodfaith/goodfaith/internal/signer/kmssigner"
	"github.com/goodfaith/goodfaith/internal/webhook"
	"github.com/goodfaith/goodfaith/widget"
)

const templateFile = "../template.yaml"

// ---- reading CloudFormation YAML (internal/cfn)

var (
	asMap  = cfn.Map
	get    = cfn.Get
	list   = cfn.List
	target = cfn.Target
)

type template struct {
	t         *testing.T
	Globals   map[string]any
	Resources map[string]map[string]any
	Outputs   map[string]any
	Params    map[string]any
}

func loadTemplate(t *testing.T) template {
	t.Helper()
	raw, err := os.ReadFile(templateFile)
	if err != nil {
		t.Fatal(err)
	}
	root, err := cfn.Parse(raw)
	if err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	if root["Transform"] != "AWS::Serverless-2016-10-31" {
		t.Errorf("Transform = %v", root["Transform"])
	}
	tp := template{t: t, Globals: asMap(root["Globals"]), Outputs: asMap(root["Outputs"]), Params: asMap(root["Parameters"]), Resources: map[string]map[string]any{}}
	for name, r := range asMap(root["Resources"]) {
		tp.Resources[name] = asMap(r)
	}
	return tp
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

// everything is every part of the AWS home (each function builds some).
var everything = app.Needs{PSOKeys: kmssigner.ReadPSOKeys, RetiredPSOKeys: true, Senders: awsnotify.Senders}

// envRead is every variable app.Build reads (with every part), found by running it on an
// empty environment (it reads all of its own before it reports any) and on
// a valid one, signing with a key file so that it makes no network call
// (the optional variables it reads once the required ones are good).
func envRead(t *testing.T) []string {
	var mu sync.Mutex
	seen := map[string]bool{}
	record := func(env map[string]string) func(string) string {
		return func(name string) string {
			mu.Lock()
			defer mu.Unlock()
			seen[name] = true
			return env[name]
		}
	}
	if _, _, err := app.Build(context.Background(), record(nil), everything); err == nil {
		t.Fatal("Build accepted an empty environment")
	}
	dir := t.TempDir()
	if _, err := signer.LoadOrCreateFileKey(filepath.Join(dir, "pso.pem")); err != nil {
		t.Fatal(err)
	}
	pem, err := os.ReadFile(filepath.Join(dir, "pso.pem"))
	if err != nil {
		t.Fatal(err)
	}
	valid := map[string]string{
		app.EnvTableName: "t", app.EnvBucketName: "b", app.EnvRegion: "us-east-1",
		app.EnvPatientTokenSecret: "a patient token secret of thirty-two bytes or more",
		app.EnvPSOSigningKeyPEM:   string(pem),
		app.EnvProviderIssuer:     "https://idp.goodfaith.test/pool", app.EnvProviderAudience: "console",
		app.EnvProviderJWKSURL: "https://idp.goodfaith.test/pool/.well-known/jwks.json",
		app.EnvPublicOrigin:    "https://app.goodfaith.test", app.EnvVerifyBaseURL: "https://app.goodfaith.test/v1/psos/",
		app.EnvWebhookQueueURL: "https://sqs.us-east-1.amazonaws.com/123456789012/jobs",
	}
	if _, _, err := app.Build(context.Background(), record(valid), everything); err != nil {
		t.Fatalf("Build refused a valid environment: %v", err)
	}
	var names []string
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// optionalUnset are variables app.Build reads that the template leaves
// unset on purpose, and why.
var optionalUnset = map[string]string{
	// The key-file fallback of the PSO signer: the template signs with KMS
	// (PSO_KMS_KEY_ID), and Build ignores the PEM when a KMS key is set.
	app.EnvPSOSigningKeyPEM: "the key-file fallback",
	// The function role's credentials, which the Lambda runtime sets.
	"AWS_ACCESS_KEY_ID":     "the runtime's",
	"AWS_SECRET_ACCESS_KEY": "the runtime's",
	"AWS_SESSION_TOKEN":     "the runtime's",
}

// endpointOverride tells the SDK's endpoint variables (AWS_ENDPOINT_URL,
// AWS_ENDPOINT_URL_<SERVICE>, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS), which
// the clients read as they are built and only tests set.
func endpointOverride(name string) bool {
	return strings.HasPrefix(name, "AWS_ENDPOINT_URL") || name == "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"
}

func TestTemplateSetsTheEnvironmentFromEnvReads(t *testing.T) {
	tp := loadTemplate(t)
	// The runtime's and the tests' variables, and the key-file fallback of
	// the PSO signer: the template signs with KMS (PSO_KMS_KEY_ID), and
	// Build ignores the PEM when a KMS key is set.
	notInTemplate := []string{app.EnvRegion, app.EnvDynamoDBEndpoint, app.EnvS3Endpoint}
	for name := range optionalUnset {
		notInTemplate = append(notInTemplate, name)
	}
	read := envRead(t)
	if len(read) < 10 {
		t.Fatalf("Build reads only %v", read)
	}
	for _, want := range []string{app.EnvPSOKMSKeyID, app.EnvPSOKMSRetiredKeyIDs, app.EnvPSOSigningKeyPEM} {
		if !slices.Contains(read, want) {
			t.Errorf("Build no longer reads %s; update this test and template.yaml", want)
		}
	}
	fns := tp.ofType("AWS::Serverless::Function")
	for _, name := range fns {
		vars := asMap(get(tp.functionProps(name), "Environment", "Variables"))
		for _, v := range read {
			_, set := vars[v]
			switch {
			case endpointOverride(v) && set:
				t.Errorf("%s sets %s, an endpoint override for tests", name, v)
			case endpointOverride(v):
			case slices.Contains(notInTemplate, v) && set:
				t.Errorf("%s sets %s, which is the runtime's, a test override or left unset on purpose (%s)", name, v, optionalUnset[v])
			case !slices.Contains(notInTemplate, v) && !set:
				t.Errorf("%s does not set %s, which app.Build reads", name, v)
			}
		}
		sub, _ := get(vars, app.EnvPatientTokenSecret, "Fn::Sub").(string)
		if !strings.HasPrefix(sub, "{{resolve:secretsmanager:") {
			t.Errorf("%s: %s = %v, want a Secrets Manager dynamic reference", name, app.EnvPatientTokenSecret, vars[app.EnvPatientTokenSecret])
		}
		// Only the signal function posts to WebSocket connections.
		_, signal := vars[app.EnvSignalEndpoint]
		if isSignal := tp.folderOf(name) == "signal"; signal != isSignal {
			t.Errorf("%s: %s set = %v; want it on the signal function only", name, app.EnvSignalEndpoint, signal)
		}
	}
	if len(fns) < 9 {
		t.Errorf("only %d functions: %v", len(fns), fns)
	}
	// Every secret of the template reaches a function (an unused one, such
	// as the interim PSO key's, would be a stale place to put a key).
	vars := fmt.Sprint(get(tp.Globals, "Function", "Environment", "Variables"))
	for _, sec := range tp.ofType("AWS::SecretsManager::Secret") {
		if !strings.Contains(vars, "${"+sec+"}") {
			t.Errorf("secret %s is not in the functions' environment", sec)
		}
	}
}

// folderOf is the functions/ folder a function resource builds from.
func (tp template) folderOf(fn string) string {
	for folder, names := range tp.functionsByFolder() {
		if slices.Contains(names, fn) {
			return folder
		}
	}
	return ""
}

// roleStatements lists the Allow statements of a function's role.
func (tp template) roleStatements(fn string) []any {
	role := target(tp.functionProps(fn)["Role"])
	var out []any
	for _, pol := range list(get(tp.Resources[role], "Properties", "Policies")) {
		for _, s := range list(get(pol, "PolicyDocument", "Statement")) {
			if get(s, "Effect") == "Allow" {
				out = append(out, s)
			}
		}
	}
	return out
}

// grants tells whether a statement of fn's role allows action on a
// resource whose text contains ref (e.g. a GetAtt of a resource).
func (tp template) grants(fn, action string, ref any) bool {
	for _, s := range tp.roleStatements(fn) {
		if !slices.Contains(list(get(s, "Action")), any(action)) {
			continue
		}
		if strings.Contains(fmt.Sprint(get(s, "Resource")), fmt.Sprint(ref)) {
			return true
		}
	}
	return false
}

// PSOs are signed by a KMS key of the template: the functions whose
// app.<Name>Needs read it at start-up (provider; public, with the retired
// keys') may read its public key, no other; only the provider function,
// which issues PSOs, may sign.
func TestTemplateSignsPSOsWithAKMSKey(t *testing.T) {
	tp := loadTemplate(t)
	vars := asMap(get(tp.Globals, "Function", "Environment", "Variables"))
	keyRef := vars[app.EnvPSOKMSKeyID]
	key := target(keyRef)
	k := asMap(tp.Resources[key]["Properties"])
	if tp.Resources[key]["Type"] != "AWS::KMS::Key" || k["KeySpec"] != "ECC_NIST_P256" || k["KeyUsage"] != "SIGN_VERIFY" {
		t.Fatalf("%s = %v; want an ECC_NIST_P256 SIGN_VERIFY KMS key of the template", app.EnvPSOKMSKeyID, keyRef)
	}
	if get(keyRef, "Fn::GetAtt", "1") != "Arn" {
		t.Errorf("%s = %v; want the key's ARN (IAM grants name it)", app.EnvPSOKMSKeyID, keyRef)
	}
	if tp.Resources[key]["DeletionPolicy"] != "Retain" {
		t.Error("the signing key is not retained: deleting the stack would make every PSO unverifiable")
	}
	if len(list(get(k, "KeyPolicy", "Statement"))) == 0 {
		t.Error("the signing key has no key policy")
	}
	retired := target(vars[app.EnvPSOKMSRetiredKeyIDs])
	if p, ok := tp.Params[retired]; !ok || get(p, "Default") != "" {
		t.Errorf("%s = %v; want a parameter defaulting to empty", app.EnvPSOKMSRetiredKeyIDs, vars[app.EnvPSOKMSRetiredKeyIDs])
	}
	for _, fn := range tp.ofType("AWS::Serverless::Function") {
		n := functionNeeds[tp.folderOf(fn)].needs
		if reads := tp.grants(fn, "kms:GetPublicKey", keyRef); reads != (n.PSOKeys != nil) {
			t.Errorf("%s: kms:GetPublicKey on the signing key granted = %v; its function reads the key at start-up: %v", fn, reads, n.PSOKeys != nil)
		}
		if reads := tp.grants(fn, "kms:GetPublicKey", "${"+retired+"}"); reads != n.RetiredPSOKeys {
			t.Errorf("%s: kms:GetPublicKey on the retired keys granted = %v; its function reads them: %v", fn, reads, n.RetiredPSOKeys)
		}
		sends := false
		for _, st := range tp.roleStatements(fn) {
			sends = sends || slices.Contains(list(get(st, "Action")), any("ses:SendEmail"))
		}
		if sends != (n.Senders != nil) {
			t.Errorf("%s: ses:SendEmail granted = %v; its function sends through SES: %v", fn, sends, n.Senders != nil)
		}
		signs := false
		for _, s := range tp.roleStatements(fn) {
			if slices.Contains(list(get(s, "Action")), any("kms:Sign")) {
				signs = true
				if res := list(get(s, "Resource")); len(res) != 1 || fmt.Sprint(res[0]) != fmt.Sprint(keyRef) {
					t.Errorf("%s may sign with %v; want the signing key only", fn, res)
				}
			}
		}
		if want := tp.folderOf(fn) == "provider"; signs != want {
			t.Errorf("%s: kms:Sign granted = %v; only the provider function signs PSOs", fn, signs)
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
	// The documents bucket: the functions' BUCKET_NAME (the other bucket
	// holds the site: TestTemplateServesTheSite).
	name := target(get(tp.Globals, "Function", "Environment", "Variables", app.EnvBucketName))
	if tp.Resources[name]["Type"] != "AWS::S3::Bucket" {
		t.Fatalf("%s is %v; want a bucket of the template", app.EnvBucketName, name)
	}
	if n := len(tp.ofType("AWS::S3::Bucket")); n != 2 {
		t.Errorf("%d buckets; want the documents' and the site's", n)
	}
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
	expectEq(t, "attributes", strings.Join(attrs, ", "), "gsi1pk S, gsi1sk S, gsi2pk S, gsi2sk S, gsi3pk S, gsi3sk S, pk S, sk S")
	expectEq(t, "key schema", keys(tb["KeySchema"]), "pk HASH, sk RANGE")
	gsis := list(tb["GlobalSecondaryIndexes"])
	if len(gsis) != 3 {
		t.Fatalf("%d global secondary indexes; want gsi1, gsi2 and gsi3", len(gsis))
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

// webhookJobSenders are the functions that queue webhook delivery jobs:
// the webhook events consumer (dispatch), a replay (clinic), and the
// worker's next attempts and re-drive (webhooks).
var webhookJobSenders = []string{"dispatch", "clinic", "webhooks"}

// Webhook delivery jobs: the queue Build is given (WEBHOOK_QUEUE_URL) is
// the one the webhooks function consumes, reporting partial failures, with
// a visibility timeout of at least six times the function's timeout and a
// dead-letter queue; only the functions that queue jobs may send to it.
func TestTemplateWebhookJobsGoThroughSQS(t *testing.T) {
	tp := loadTemplate(t)
	q := tp.functionEnvTarget(t, app.EnvWebhookQueueURL)
	if tp.Resources[q]["Type"] != "AWS::SQS::Queue" {
		t.Fatalf("%s is %v, not a queue of the template", app.EnvWebhookQueueURL, q)
	}
	fns := tp.functionsByFolder()["webhooks"]
	if len(fns) != 1 {
		t.Fatalf("webhooks functions %v", fns)
	}
	var sources []any
	for _, e := range asMap(tp.functionProps(fns[0])["Events"]) {
		if get(e, "Type") == "SQS" {
			sources = append(sources, get(e, "Properties"))
		}
	}
	if len(sources) != 1 || target(get(sources[0], "Queue")) != q {
		t.Fatalf("webhooks consumes %v; want the one queue %s", sources, q)
	}
	if !slices.Contains(list(get(sources[0], "FunctionResponseTypes")), any("ReportBatchItemFailures")) {
		t.Error("the jobs' event source does not report partial batch failures")
	}
	if n, ok := get(sources[0], "BatchSize").(int); !ok || n > 10 {
		t.Errorf("BatchSize %v; the worker handles a batch within one timeout, keep it at 10 or less", get(sources[0], "BatchSize"))
	}
	qp := asMap(tp.Resources[q]["Properties"])
	vis, _ := qp["VisibilityTimeout"].(int)
	fnTimeout, _ := tp.functionProps(fns[0])["Timeout"].(int)
	if fnTimeout == 0 || vis < 6*fnTimeout {
		t.Errorf("VisibilityTimeout %d with a function timeout of %d; want at least six times it", vis, fnTimeout)
	}
	if time.Duration(vis)*time.Second != webhook.JobVisibilityTimeout {
		t.Errorf("VisibilityTimeout %d; webhook.JobVisibilityTimeout (which RedriveGrace outlasts) says %s", vis, webhook.JobVisibilityTimeout)
	}
	if n, ok := get(qp, "RedrivePolicy", "maxReceiveCount").(int); !ok || n < 2 {
		t.Errorf("RedrivePolicy %v; want a dead-letter queue after a few receives", qp["RedrivePolicy"])
	}
	for _, fn := range tp.ofType("AWS::Serverless::Function") {
		want := slices.Contains(webhookJobSenders, tp.folderOf(fn))
		if got := tp.grants(fn, "sqs:SendMessage", map[string]any{"Fn::GetAtt": []any{q, "Arn"}}); got != want {
			t.Errorf("%s may send webhook jobs: %v; want %v", fn, got, want)
		}
	}
	for _, a := range []string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"} {
		if !tp.grants(fns[0], a, map[string]any{"Fn::GetAtt": []any{q, "Arn"}}) {
			t.Errorf("%s cannot %s on %s (the event source mapping polls with the function's role)", fns[0], a, q)
		}
	}
}

// apiRoute is one route of internal/httpapi.
type apiRoute struct {
	folder, method, path, file string
}

// httpapiRoutes reads the route tables of internal/httpapi: the routes that
// (*api).<folder>Routes mounts — with a.handle, itself or through the route
// methods it calls (a.integrationRoutes(mux) → billing.go, webhooks.go, …),
// in whichever file — belong to functions/<folder>. The dev routes are never
// mounted in AWS.
func httpapiRoutes(t *testing.T, folders []string) []apiRoute {
	t.Helper()
	dir := filepath.Join("..", "internal", "httpapi")
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	type method struct {
		file string
		body *ast.BlockStmt
	}
	methods := map[string]method{} // the methods of *api
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil || fd.Recv == nil || len(fd.Recv.List) != 1 {
				continue
			}
			if star, ok := fd.Recv.List[0].Type.(*ast.StarExpr); ok {
				if id, ok := star.X.(*ast.Ident); ok && id.Name == "api" {
					methods[fd.Name.Name] = method{file: filepath.Base(file), body: fd.Body}
				}
			}
		}
	}
	var routes []apiRoute
	for _, folder := range folders {
		root := folder + "Routes"
		if _, ok := methods[root]; !ok {
			continue // not an API function
		}
		seen := map[string]bool{}
		var walk func(name string)
		walk = func(name string) {
			if seen[name] || strings.HasPrefix(name, "dev") {
				return
			}
			seen[name] = true
			m := methods[name]
			ast.Inspect(m.body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if sel.Sel.Name != "handle" {
					// a route method mounting more routes on the same mux
					if _, ok := methods[sel.Sel.Name]; ok && strings.HasSuffix(sel.Sel.Name, "Routes") {
						walk(sel.Sel.Name)
					}
					return true
				}
				if len(call.Args) < 2 {
					return true
				}
				pattern, ok := constString(call.Args[1], m.body)
				if !ok {
					t.Errorf("%s: a route pattern that is not a constant string; this test cannot read it", m.file)
					return true
				}
				method, path, ok := strings.Cut(pattern, " ")
				if !ok {
					t.Errorf("%s: route %q has no method", m.file, pattern)
					return true
				}
				if strings.HasPrefix(path, "/dev/") {
					return true // the dev issuer's routes: never mounted in AWS
				}
				routes = append(routes, apiRoute{folder: folder, method: method, path: path, file: m.file})
				return true
			})
		}
		walk(root)
	}
	// Every method that mounts routes must be reached from an audience
	// (else its routes are in no function, and this test would not see them).
	for name, m := range methods {
		if !strings.HasSuffix(name, "Routes") || strings.HasPrefix(name, "dev") || slices.Contains(folders, strings.TrimSuffix(name, "Routes")) {
			continue
		}
		var reached bool
		for _, folder := range folders {
			if reachable(methods[folder+"Routes"].body, name, func(n string) *ast.BlockStmt { return methods[n].body }) {
				reached = true
			}
		}
		if !reached {
			t.Errorf("internal/httpapi/%s: %s is mounted by no audience's route table (or this test cannot follow how)", m.file, name)
		}
	}
	return routes
}

// constString evaluates a route pattern: a string literal, a constant
// declared in the function body, or a sum of those ("GET "+base+"/x").
func constString(e ast.Expr, body *ast.BlockStmt) (string, bool) {
	switch x := e.(type) {
	case *ast.BasicLit:
		if x.Kind != token.STRING {
			return "", false
		}
		v, err := strconv.Unquote(x.Value)
		return v, err == nil
	case *ast.ParenExpr:
		return constString(x.X, body)
	case *ast.BinaryExpr:
		if x.Op != token.ADD {
			return "", false
		}
		l, lok := constString(x.X, body)
		r, rok := constString(x.Y, body)
		return l + r, lok && rok
	case *ast.Ident:
		var val ast.Expr
		ast.Inspect(body, func(n ast.Node) bool {
			gd, ok := n.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				return val == nil
			}
			for _, sp := range gd.Specs {
				vs := sp.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if name.Name == x.Name && i < len(vs.Values) {
						val = vs.Values[i]
					}
				}
			}
			return false
		})
		if val == nil {
			return "", false
		}
		return constString(val, body)
	}
	return "", false
}

// reachable tells whether body calls method name, directly or through the
// …Routes methods it calls.
func reachable(body *ast.BlockStmt, name string, bodyOf func(string) *ast.BlockStmt) bool {
	seen := map[*ast.BlockStmt]bool{}
	var walk func(b *ast.BlockStmt) bool
	walk = func(b *ast.BlockStmt) bool {
		if b == nil || seen[b] {
			return false
		}
		seen[b] = true
		found := false
		ast.Inspect(b, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || found {
				return !found
			}
			if sel, ok := call.Fun.(*ast.SelectorExpr); ok && strings.HasSuffix(sel.Sel.Name, "Routes") && !strings.HasPrefix(sel.Sel.Name, "dev") {
				if sel.Sel.Name == name || walk(bodyOf(sel.Sel.Name)) {
					found = true
				}
			}
			return !found
		})
		return found
	}
	return walk(body)
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
			t.Errorf("%s %s (internal/httpapi/%s, functions/%s) has no route in template.yaml", r.method, r.path, r.file, r.folder)
		case evs[best].folder != r.folder:
			t.Errorf("%s %s (internal/httpapi/%s, functions/%s) goes to %s (functions/%s)", r.method, r.path, r.file, r.folder, evs[best].fn, evs[best].folder)
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
	// The groups internal/auth maps to roles.
	expectEq(t, "groups", strings.Join(groups, ","), strings.Join([]string{auth.CognitoClinicAdminsGroup, auth.CognitoDirectorsGroup, "providers"}, ","))
	// custom:clinic_id names a clinic admin's clinic: no user may change it.
	var clinicAttr bool
	for _, a := range list(pool["Schema"]) {
		if "custom:"+fmt.Sprint(get(a, "Name")) == auth.CognitoClinicIDClaim {
			clinicAttr = get(a, "Mutable") == false
		}
	}
	if !clinicAttr {
		t.Errorf("the pool has no immutable %s attribute", auth.CognitoClinicIDClaim)
	}
	// One public client per audience, each the audience the code checks
	// its tokens against.
	clients := tp.ofType("AWS::Cognito::UserPoolClient")
	if len(clients) != 3 {
		t.Fatalf("app clients %v; want the console's, the dashboard's and the directors'", clients)
	}
	vars := asMap(get(tp.Globals, "Function", "Environment", "Variables"))
	seen := map[string]string{}
	for _, v := range []string{app.EnvProviderAudience, app.EnvDashboardClientID, app.EnvDirectorClientID} {
		c := target(vars[v])
		client := asMap(tp.Resources[c]["Properties"])
		if tp.Resources[c]["Type"] != "AWS::Cognito::UserPoolClient" || target(client["UserPoolId"]) != pools[0] || client["GenerateSecret"] != false {
			t.Errorf("%s = %v; want a public app client of the pool", v, vars[v])
		}
		if other, dup := seen[c]; dup {
			t.Errorf("%s and %s are the same client %s: a token of one audience would pass as the other's", v, other, c)
		}
		seen[c] = v
		if cb := fmt.Sprint(list(client["CallbackURLs"])); !strings.Contains(cb, "${PublicOrigin}/") {
			t.Errorf("%s: callback URLs %s are not pages of PublicOrigin", c, cb)
		}
	}
	if target(vars[app.EnvProviderIssuer]) != pools[0] {
		t.Errorf("PROVIDER_ISSUER %v is not the pool's issuer", vars[app.EnvProviderIssuer])
	}
	if len(tp.ofType("AWS::Cognito::UserPoolDomain")) != 1 {
		t.Error("no hosted sign-in domain (AWS::Cognito::UserPoolDomain)")
	}
	if sub, _ := get(vars, app.EnvProviderJWKSURL, "Fn::Sub").(string); sub != "${"+pools[0]+".ProviderURL}/.well-known/jwks.json" {
		t.Errorf("PROVIDER_JWKS_URL %v is not the pool's JWKS", vars[app.EnvProviderJWKSURL])
	}
}

// The routes of an audience that signs in with Cognito pass a JWT
// authorizer for that audience's app client (defence in depth: the app
// verifies the token again), with an unauthorized OPTIONS route beside
// each for preflights: provider routes the console's client, director
// routes the directors'. No other route does: clinic routes take sk_ keys
// or clinic-admin tokens (the app tells them apart), patient and public
// routes no Cognito token.
func TestTemplateAuthorizersGuardTheCognitoAudiences(t *testing.T) {
	tp := loadTemplate(t)
	apis := tp.ofType("AWS::Serverless::HttpApi")
	if len(apis) != 1 {
		t.Fatalf("HTTP APIs %v", apis)
	}
	if d := get(tp.Resources[apis[0]], "Properties", "Auth", "DefaultAuthorizer"); d != nil {
		t.Errorf("DefaultAuthorizer %v would put the patient, clinic and public routes behind a JWT", d)
	}
	vars := asMap(get(tp.Globals, "Function", "Environment", "Variables"))
	// The route prefix of each audience and the client its tokens are for.
	guarded := map[string]string{
		"/v1/provider/": target(vars[app.EnvProviderAudience]),
		"/v1/director/": target(vars[app.EnvDirectorClientID]),
	}
	authorizers := asMap(get(tp.Resources[apis[0]], "Properties", "Auth", "Authorizers"))
	if len(authorizers) != len(guarded) {
		t.Fatalf("authorizers %v; want one per Cognito audience (%d)", authorizers, len(guarded))
	}
	authorizerOf := map[string]string{} // client -> authorizer
	pool := tp.ofType("AWS::Cognito::UserPool")
	for name, a := range authorizers {
		jwt := get(a, "JwtConfiguration")
		if !sameRef(get(jwt, "issuer"), map[string]any{"Fn::GetAtt": []any{pool[0], "ProviderURL"}}) {
			t.Errorf("authorizer %s issuer %v is not the user pool's", name, get(jwt, "issuer"))
		}
		aud := list(get(jwt, "audience"))
		if len(aud) != 1 || tp.Resources[target(aud[0])]["Type"] != "AWS::Cognito::UserPoolClient" {
			t.Errorf("authorizer %s audience %v is not one app client", name, aud)
			continue
		}
		authorizerOf[target(aud[0])] = name
		expectEq(t, "identity source", get(a, "IdentitySource"), any("$request.header.Authorization"))
	}
	seen := map[string]bool{}
	for folder, fns := range tp.functionsByFolder() {
		for _, fn := range fns {
			evs := asMap(tp.functionProps(fn)["Events"])
			for en, e := range evs {
				if get(e, "Type") != "HttpApi" {
					continue
				}
				p := asMap(get(e, "Properties"))
				path := fmt.Sprint(p["Path"])
				auth := get(p, "Auth", "Authorizer")
				client := ""
				for prefix, c := range guarded {
					if strings.HasPrefix(path, prefix) {
						client = c
					}
				}
				switch {
				case client != "" && p["Method"] == "OPTIONS":
					if auth != nil && auth != "NONE" {
						t.Errorf("%s.%s: the preflight route is behind %v; browsers send no token on preflights", fn, en, auth)
					}
				case client != "":
					seen[client] = true
					if want := authorizerOf[client]; auth != want || want == "" {
						t.Errorf("%s.%s (%v %v) is behind %v; want the authorizer of %s", fn, en, p["Method"], path, auth, client)
					}
					var preflight bool
					for _, o := range evs {
						op := asMap(get(o, "Properties"))
						preflight = preflight || (get(o, "Type") == "HttpApi" && op["Method"] == "OPTIONS" && op["Path"] == p["Path"] && get(op, "Auth", "Authorizer") == nil)
					}
					if !preflight {
						t.Errorf("%s.%s (%v) has no unauthorized OPTIONS route for preflights", fn, en, path)
					}
				default:
					if auth != nil && auth != "NONE" {
						t.Errorf("%s.%s (functions/%s, %s) is behind %v; only the Cognito audiences' routes are", fn, en, folder, path, auth)
					}
				}
			}
		}
	}
	for prefix, c := range guarded {
		if !seen[c] {
			t.Errorf("no route under %s behind the authorizer of %s", prefix, c)
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

// TestTemplatePassesCfnLint lints template.yaml (cfn.Lint).
func TestTemplatePassesCfnLint(t *testing.T) {
	cfn.Lint(t, templateFile)
}

// scheduledJobs are the functions EventBridge Scheduler runs, and how often.
var scheduledJobs = map[string]string{
	"sweep":    "rate(1 minute)",
	"webhooks": "rate(1 minute)",
	"close":    "rate(1 hour)",
}

// Each scheduled function has one schedule at its rate, invoking it through
// a role that may, with a retry policy and a dead-letter queue that the
// function's own failed runs also reach; and the event the schedule sends is
// one internal/lambdaschedule accepts.
func TestTemplateSchedulesRunTheJobs(t *testing.T) {
	tp := loadTemplate(t)
	byFolder := tp.functionsByFolder()
	schedules := tp.ofType("AWS::Scheduler::Schedule")
	for folder, rate := range scheduledJobs {
		fns := byFolder[folder]
		if len(fns) != 1 {
			t.Errorf("functions/%s: function resources %v", folder, fns)
			continue
		}
		fn := fns[0]
		var mine []string
		for _, s := range schedules {
			if target(get(tp.Resources[s], "Properties", "Target", "Arn")) == fn {
				mine = append(mine, s)
			}
		}
		if len(mine) != 1 {
			t.Errorf("%s is the target of schedules %v; want one", fn, mine)
			continue
		}
		p := asMap(tp.Resources[mine[0]]["Properties"])
		expectEq(t, mine[0]+" expression", p["ScheduleExpression"], any(rate))
		if get(p, "State") != "ENABLED" {
			t.Errorf("%s is not enabled", mine[0])
		}
		if n, ok := get(p, "Target", "RetryPolicy", "MaximumRetryAttempts").(int); !ok || n < 1 {
			t.Errorf("%s: retry policy %v", mine[0], get(p, "Target", "RetryPolicy"))
		}
		dlq := target(get(p, "Target", "DeadLetterConfig", "Arn"))
		if tp.Resources[dlq]["Type"] != "AWS::SQS::Queue" {
			t.Errorf("%s: dead-letter queue %v is not a queue of the template", mine[0], dlq)
		}
		// The function's failed runs (asynchronous invocations) end there too.
		fp := tp.functionProps(fn)
		if get(fp, "DeadLetterQueue", "Type") != "SQS" || target(get(fp, "DeadLetterQueue", "TargetArn")) != dlq {
			t.Errorf("%s: DeadLetterQueue %v; want its schedule's DLQ %s", fn, fp["DeadLetterQueue"], dlq)
		}
		if !tp.grants(fn, "sqs:SendMessage", map[string]any{"Fn::GetAtt": []any{dlq, "Arn"}}) {
			t.Errorf("%s's role cannot send to its DLQ %s (Lambda does so with the function's role)", fn, dlq)
		}
		if _, ok := get(fp, "EventInvokeConfig", "MaximumRetryAttempts").(int); !ok {
			t.Errorf("%s: no EventInvokeConfig.MaximumRetryAttempts; say how often a failed run is retried", fn)
		}
		// Scheduler's role may invoke the function and send to the DLQ.
		role := target(get(p, "Target", "RoleArn"))
		var invoke, send bool
		for _, pol := range list(get(tp.Resources[role], "Properties", "Policies")) {
			for _, s := range list(get(pol, "PolicyDocument", "Statement")) {
				res := fmt.Sprint(get(s, "Resource"))
				acts := list(get(s, "Action"))
				invoke = invoke || (slices.Contains(acts, any("lambda:InvokeFunction")) && strings.Contains(res, "["+fn+" Arn]"))
				send = send || (slices.Contains(acts, any("sqs:SendMessage")) && strings.Contains(res, "["+dlq+" Arn]"))
			}
		}
		if !invoke || !send {
			t.Errorf("%s: role %s may invoke %s: %v, send to %s: %v", mine[0], role, fn, invoke, dlq, send)
		}
		expectEq(t, role+" trusted service", get(tp.Resources[role], "Properties", "AssumeRolePolicyDocument", "Statement", "0", "Principal", "Service"), any("scheduler.amazonaws.com"))
		// The event it sends, with Scheduler's context attributes filled in.
		in, _ := get(p, "Target", "Input", "Fn::Sub").(string)
		in = strings.NewReplacer(
			"${AWS::AccountId}", "123456789012", "${AWS::Region}", "us-east-1",
			"<aws.scheduler.execution-id>", "d3c5", "<aws.scheduler.scheduled-time>", "2026-11-23T15:00:00Z",
			"<aws.scheduler.schedule-arn>", "arn:aws:scheduler:us-east-1:123456789012:schedule/default/x",
		).Replace(in)
		var ev events.EventBridgeEvent
		if err := json.Unmarshal([]byte(in), &ev); err != nil {
			t.Errorf("%s: Input is not an EventBridge event: %v\n%s", mine[0], err, in)
			continue
		}
		ran := false
		job := func(context.Context) (map[string]int, error) { ran = true; return nil, nil }
		if _, err := lambdaschedule.Handler(folder, job, nil)(context.Background(), ev); err != nil || !ran {
			t.Errorf("%s: lambdaschedule refuses the event it sends: %v", mine[0], err)
		}
	}
	for _, s := range schedules {
		fn := target(get(tp.Resources[s], "Properties", "Target", "Arn"))
		if _, ok := scheduledJobs[tp.folderOf(fn)]; !ok {
			t.Errorf("schedule %s runs %s, which is not a scheduled job of this test", s, fn)
		}
	}
}

// Signaling: a WebSocket API whose $connect, $disconnect and $default
// routes reach the signal function, which may post to the API's own
// connections and knows where (SIGNAL_MANAGEMENT_ENDPOINT).
func TestTemplateSignalingWebSocketAPI(t *testing.T) {
	tp := loadTemplate(t)
	fns := tp.functionsByFolder()["signal"]
	if len(fns) != 1 {
		t.Fatalf("signal functions %v", fns)
	}
	fn := fns[0]
	var apis []string
	for _, a := range tp.ofType("AWS::ApiGatewayV2::Api") {
		if get(tp.Resources[a], "Properties", "ProtocolType") == "WEBSOCKET" {
			apis = append(apis, a)
		}
	}
	if len(apis) != 1 {
		t.Fatalf("WebSocket APIs %v; want one", apis)
	}
	api := apis[0]
	routes := map[string]bool{}
	for _, r := range tp.ofType("AWS::ApiGatewayV2::Route") {
		p := asMap(tp.Resources[r]["Properties"])
		if target(p["ApiId"]) != api {
			continue
		}
		key, _ := p["RouteKey"].(string)
		routes[key] = true
		integ, _ := strings.CutPrefix(fmt.Sprint(get(p, "Target", "Fn::Sub")), "integrations/${")
		integ = strings.TrimSuffix(integ, "}")
		ip := asMap(tp.Resources[integ]["Properties"])
		if tp.Resources[integ]["Type"] != "AWS::ApiGatewayV2::Integration" || ip["IntegrationType"] != "AWS_PROXY" ||
			!strings.Contains(fmt.Sprint(get(ip, "IntegrationUri", "Fn::Sub")), "${"+fn+".Arn}") {
			t.Errorf("route %s (%s) does not reach %s through a proxy integration: %v", r, key, fn, p["Target"])
		}
		if p["AuthorizationType"] != "NONE" {
			t.Errorf("route %s: authorization %v; the function verifies the token itself", key, p["AuthorizationType"])
		}
	}
	for _, k := range []string{"$connect", "$disconnect", "$default"} {
		if !routes[k] {
			t.Errorf("no %s route", k)
		}
	}
	var stage string
	for _, s := range tp.ofType("AWS::ApiGatewayV2::Stage") {
		if target(get(tp.Resources[s], "Properties", "ApiId")) == api {
			stage = s
		}
	}
	if stage == "" || get(tp.Resources[stage], "Properties", "AutoDeploy") != true {
		t.Errorf("the WebSocket API has no auto-deployed stage (%q)", stage)
	}
	var permitted bool
	for _, p := range tp.ofType("AWS::Lambda::Permission") {
		pp := asMap(tp.Resources[p]["Properties"])
		permitted = permitted || (target(pp["FunctionName"]) == fn && pp["Principal"] == "apigateway.amazonaws.com" &&
			strings.Contains(fmt.Sprint(get(pp, "SourceArn", "Fn::Sub")), "${"+api+"}/"))
	}
	if !permitted {
		t.Errorf("no permission lets the WebSocket API invoke %s", fn)
	}
	var manage bool
	for _, s := range tp.roleStatements(fn) {
		res := fmt.Sprint(get(s, "Resource", "Fn::Sub"))
		if slices.Contains(list(get(s, "Action")), any("execute-api:ManageConnections")) {
			if !strings.Contains(res, "${"+api+"}/${"+stage+"}/") || !strings.HasSuffix(res, "/@connections/*") {
				t.Errorf("%s may manage connections of %s; want its own API's stage only", fn, res)
			}
			manage = true
		}
	}
	if !manage {
		t.Errorf("%s may not post to connections (execute-api:ManageConnections)", fn)
	}
	ep := fmt.Sprint(get(tp.functionProps(fn), "Environment", "Variables", app.EnvSignalEndpoint, "Fn::Sub"))
	if !strings.HasPrefix(ep, "https://${"+api+"}.execute-api.") || !strings.HasSuffix(ep, "/${"+stage+"}") {
		t.Errorf("%s = %s; want https://{api}.execute-api.{region}.amazonaws.com/{stage}", app.EnvSignalEndpoint, ep)
	}
	var wss bool
	for _, o := range tp.Outputs {
		wss = wss || strings.HasPrefix(fmt.Sprint(get(o, "Value", "Fn::Sub")), "wss://${"+api+"}.")
	}
	if !wss {
		t.Error("no output gives the wss:// URL of the signaling API")
	}
}

// The TURN secret reaches the functions as a Secrets Manager dynamic
// reference to the TURN stack's secret (TurnSecretArn), never as a
// parameter's plain value, and only when that ARN is given.
func TestTemplateHandsTheTURNSecretByReference(t *testing.T) {
	tp := loadTemplate(t)
	vars := asMap(get(tp.Globals, "Function", "Environment", "Variables"))
	branches := list(get(vars, app.EnvICETURNSecret, "Fn::If"))
	if len(branches) != 3 || branches[0] != "HasTurnSecret" || branches[2] != "" {
		t.Fatalf("%s = %v, want !If [HasTurnSecret, resolve, \"\"]", app.EnvICETURNSecret, vars[app.EnvICETURNSecret])
	}
	if sub, _ := get(branches[1], "Fn::Sub").(string); sub != "{{resolve:secretsmanager:${TurnSecretArn}:SecretString}}" {
		t.Errorf("%s resolves %v", app.EnvICETURNSecret, branches[1])
	}
	for v, p := range map[string]string{app.EnvICESTUNURLs: "IceStunUrls", app.EnvICETURNURLs: "IceTurnUrls"} {
		if target(vars[v]) != p || tp.Params[p] == nil {
			t.Errorf("%s = %v, want !Ref %s", v, vars[v], p)
		}
	}
}

// TestTemplateServesTheSite: the consoles are files of a private bucket that
// only the site distribution reads (origin access control, the
// distribution's ARN in the bucket policy), over HTTPS, with the headers the
// local server sends them (widget.ConsoleCSP with this stack's origins);
// the API and the widget go to the HTTP API on the same origin; the
// outputs give the consoles' URLs and config.json, and the snippet.
func TestTemplateServesTheSite(t *testing.T) {
	tp := loadTemplate(t)
	dists := tp.ofType("AWS::CloudFront::Distribution")
	if len(dists) != 1 {
		t.Fatalf("distributions %v; want one", dists)
	}
	dist := asMap(get(tp.Resources[dists[0]], "Properties", "DistributionConfig"))
	docs := target(get(tp.Globals, "Function", "Environment", "Variables", app.EnvBucketName))
	var site string
	for _, b := range tp.ofType("AWS::S3::Bucket") {
		if b != docs {
			site = b
		}
	}
	sb := asMap(tp.Resources[site]["Properties"])
	for _, k := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
		if get(sb, "PublicAccessBlockConfiguration", k) != true {
			t.Errorf("site bucket: PublicAccessBlockConfiguration.%s is not true", k)
		}
	}
	if get(sb, "WebsiteConfiguration") != nil {
		t.Error("the site bucket is a public website endpoint; CloudFront reads it privately")
	}
	// Origins: the bucket through an OAC, the HTTP API over HTTPS.
	origins := map[string]any{}
	for _, o := range list(dist["Origins"]) {
		origins[fmt.Sprint(get(o, "Id"))] = o
		switch {
		case get(o, "S3OriginConfig") != nil:
			if target(get(o, "DomainName")) != site || tp.Resources[target(get(o, "OriginAccessControlId"))]["Type"] != "AWS::CloudFront::OriginAccessControl" {
				t.Errorf("S3 origin %v; want the site bucket through an origin access control", o)
			}
		default:
			if !strings.Contains(fmt.Sprint(get(o, "DomainName")), "${HttpApi}.execute-api.") || get(o, "CustomOriginConfig", "OriginProtocolPolicy") != "https-only" {
				t.Errorf("origin %v; want the HTTP API over HTTPS", o)
			}
		}
	}
	// Only this distribution reads the bucket.
	var readers int
	for _, pol := range tp.ofType("AWS::S3::BucketPolicy") {
		p := asMap(tp.Resources[pol]["Properties"])
		if target(p["Bucket"]) != site {
			continue
		}
		for _, st := range list(get(p, "PolicyDocument", "Statement")) {
			if get(st, "Effect") != "Allow" {
				continue
			}
			readers++
			if get(st, "Principal", "Service") != "cloudfront.amazonaws.com" || !strings.Contains(fmt.Sprint(get(st, "Condition", "StringEquals", "AWS:SourceArn")), "${"+dists[0]+"}") {
				t.Errorf("site bucket policy lets %v read; want the site distribution only", get(st, "Principal"))
			}
		}
	}
	if readers != 1 {
		t.Errorf("%d statements allow reading the site bucket; want the distribution's", readers)
	}
	// HTTPS everywhere; the API and the widget to the API origin.
	api := ""
	for id, o := range origins {
		if get(o, "CustomOriginConfig") != nil {
			api = id
		}
	}
	behaviors := map[string]any{"(default)": dist["DefaultCacheBehavior"]}
	for _, c := range list(dist["CacheBehaviors"]) {
		behaviors[fmt.Sprint(get(c, "PathPattern"))] = c
	}
	for pattern, c := range behaviors {
		if v := get(c, "ViewerProtocolPolicy"); v != "https-only" && v != "redirect-to-https" {
			t.Errorf("behavior %s lets browsers use %v", pattern, v)
		}
	}
	for _, pattern := range []string{"/v1/*", "/.well-known/*", widget.Prefix + "*"} {
		if c, ok := behaviors[pattern]; !ok || get(c, "TargetOriginId") != api {
			t.Errorf("%s does not go to the HTTP API (%v)", pattern, c)
		}
	}
	if !slices.Contains(list(get(behaviors["/v1/*"], "AllowedMethods")), any("POST")) {
		t.Error("/v1/* does not allow POST")
	}
	// The consoles' headers are the local server's.
	hp := target(get(behaviors["(default)"], "ResponseHeadersPolicyId"))
	hc := get(tp.Resources[hp], "Properties", "ResponseHeadersPolicyConfig")
	csp := fmt.Sprint(get(hc, "SecurityHeadersConfig", "ContentSecurityPolicy", "ContentSecurityPolicy", "Fn::Sub"))
	csp = strings.NewReplacer("${AWS::Region}", "us-east-1", "${AuthDomainPrefix}", "signin", "${SignalApi}", "sigapi", "${DocumentsBucket}", "docs").Replace(csp)
	want := widget.ConsoleCSP(
		[]string{"https://cognito-idp.us-east-1.amazonaws.com", "https://signin.auth.us-east-1.amazoncognito.com"},
		[]string{"https://docs.s3.us-east-1.amazonaws.com"},
		"wss://sigapi.execute-api.us-east-1.amazonaws.com")
	if csp != want {
		t.Errorf("the consoles' CSP in the template is\n%s\nthe local server's (widget.ConsoleCSP) with this stack's origins is\n%s", csp, want)
	}
	for path, want := range map[string]any{
		"ContentTypeOptions.Override":   true,
		"FrameOptions.FrameOption":      "DENY",
		"ReferrerPolicy.ReferrerPolicy": "no-referrer",
	} {
		parts := strings.Split(path, ".")
		if got := get(hc, append([]string{"SecurityHeadersConfig"}, parts...)...); got != want {
			t.Errorf("consoles' %s = %v, want %v", path, got, want)
		}
	}
	if get(hc, "SecurityHeadersConfig", "StrictTransportSecurity") == nil {
		t.Error("no HSTS on the consoles")
	}
	// The pages' config.json, as `make site` writes them from the outputs:
	// every key the local server's config.json has.
	for out, prefix := range map[string]string{"ConsoleConfig": widget.ConsolePrefix, "DashboardConfig": widget.DashboardPrefix} {
		rec := httptest.NewRecorder()
		widget.Consoles(widget.ConsoleOptions{Issuer: "https://idp.test"}).ServeHTTP(rec, httptest.NewRequest("GET", prefix+"config.json", nil))
		var local, aws map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &local); err != nil || len(local) == 0 {
			t.Fatalf("local %sconfig.json: %v %s", prefix, err, rec.Body)
		}
		sub := fmt.Sprint(get(tp.Outputs[out], "Value", "Fn::Sub"))
		if err := json.Unmarshal([]byte(sub), &aws); err != nil {
			t.Fatalf("output %s is not JSON: %v\n%s", out, err, sub)
		}
		for k := range local {
			if _, ok := aws[k]; !ok {
				t.Errorf("output %s lacks %q, which the page's config.json has", out, k)
			}
		}
	}
	for _, o := range []string{"ConsoleUrl", "DashboardUrl", "ConsoleConfig", "DashboardConfig", "WidgetSnippet", "SiteBucketName", "SiteDistributionId", "SiteUrl"} {
		if _, ok := tp.Outputs[o]; !ok {
			t.Errorf("no %s output", o)
		}
	}
}
