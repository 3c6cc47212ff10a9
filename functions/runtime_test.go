package functions_test

// Runtime smoke tests: each function's real bootstrap binary, built for this
// machine's architecture with the production flags, runs against a double of
// the Lambda Runtime API (internal/lambdaruntime/runtimeapi) in the
// environment template.yaml gives it — with DynamoDB Local and MinIO in
// place of DynamoDB and S3 — and answers a golden event from
// testdata/events.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/goodfaith/goodfaith/internal/app"
	"github.com/goodfaith/goodfaith/internal/auth"
	"github.com/goodfaith/goodfaith/internal/blob/s3blob"
	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/directory"
	"github.com/goodfaith/goodfaith/internal/directory/seedtest"
	"github.com/goodfaith/goodfaith/internal/lambdaruntime"
	"github.com/goodfaith/goodfaith/internal/lambdaruntime/runtimeapi"
	"github.com/goodfaith/goodfaith/internal/lambdaschedule"
	"github.com/goodfaith/goodfaith/internal/queue/sqsqueue"
	"github.com/goodfaith/goodfaith/internal/rules"
	"github.com/goodfaith/goodfaith/internal/signer"
	"github.com/goodfaith/goodfaith/internal/signer/kmssigner/kmstest"
	"github.com/goodfaith/goodfaith/internal/store/dynamo"
	"github.com/goodfaith/goodfaith/internal/testenv"
)

// ---- building the bootstraps

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

// bootstraps builds every function once per test binary, as `make lambdas`
// does but for this machine's GOOS/GOARCH, and returns the folder holding
// <name>/bootstrap.
func bootstraps(tb testing.TB) string {
	tb.Helper()
	if testing.Short() {
		tb.Skip("builds every function's bootstrap binary (about a minute on two cores); -short skips it")
	}
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "goodfaith-bootstraps-")
		if buildErr != nil {
			return
		}
		entries, err := os.ReadDir(".")
		if err != nil {
			buildErr = err
			return
		}
		var pkgs []string
		for _, e := range entries {
			if e.IsDir() && e.Name() != "testdata" {
				pkgs = append(pkgs, "./"+e.Name())
			}
		}
		// One go build per function (go build -o DIR/ of several mains
		// names each binary after its folder).
		for _, pkg := range pkgs {
			name := filepath.Base(pkg)
			cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w",
				"-o", filepath.Join(buildDir, name, "bootstrap"), pkg)
			cmd.Env = append(os.Environ(), "GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH, "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
				return
			}
		}
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return buildDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// ---- the AWS environment, on DynamoDB Local and MinIO

// lambdaEnv is a function's environment: what template.yaml sets, the
// Lambda runtime's own variables, and the test endpoints.
type lambdaEnv struct {
	vars          map[string]string
	providerToken string // a valid provider token for prov_tx_md
	// signalEndpoint is SIGNAL_MANAGEMENT_ENDPOINT, which template.yaml sets
	// on the signal function only: a Management API stand-in recording the
	// messages posted to connections.
	signalEndpoint string
	posted         *atomic.Int64
	kms            *kmstest.Server
	kmsKey         string // the signing key's id; kmsRetired signed before
	kmsRetired     string
}

// varsFor is function name's environment.
func (e lambdaEnv) varsFor(name string) map[string]string {
	if name != "signal" {
		return e.vars
	}
	vars := make(map[string]string, len(e.vars)+1)
	for k, v := range e.vars {
		vars[k] = v
	}
	vars[app.EnvSignalEndpoint] = e.signalEndpoint
	return vars
}

var uniq atomic.Int64

// awsEnv creates a table and a bucket, seeds the directory with
// testdata/seed/e2e.json, and returns the environment for the functions.
func awsEnv(tb testing.TB) lambdaEnv {
	tb.Helper()
	ddb := testenv.DynamoDB(tb)
	s3 := testenv.S3(tb)
	kmsKey := os.Getenv(s3blob.KMSKeyIDVar)
	if kmsKey == "" && os.Getenv("CI") != "" {
		tb.Fatalf("%s is not set: CI must run the tests through `make test`", s3blob.KMSKeyIDVar)
	}
	ctx := context.Background()
	name := fmt.Sprintf("goodfaith-lambda-%d-%d", time.Now().UnixNano()%1e9, uniq.Add(1))

	dir := tb.TempDir()
	// Provisioning needs a signer; the functions sign through KMS, as the
	// template has them: a KMS endpoint on loopback (kmstest) holding the
	// signing key and a retired one, which the SDK in each bootstrap reaches
	// through its own AWS_ENDPOINT_URL_KMS.
	key, err := signer.LoadOrCreateFileKey(filepath.Join(dir, "pso.pem"))
	if err != nil {
		tb.Fatal(err)
	}
	kms := kmstest.Start(tb)
	kmsKey, kmsRetired := kms.CreateKey(tb), kms.CreateKey(tb)
	home, err := app.OpenAWS(ctx, app.AWSConfig{
		Region: "us-east-1", Table: name, Bucket: name, SSEKMSKey: kmsKey,
		DynamoDBEndpoint: ddb, S3Endpoint: s3.Endpoint, AccessKey: s3.AccessKey, SecretKey: s3.SecretKey,
	}, key, clock.System{}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if err := dynamo.CreateTable(ctx, home.DB, name); err != nil {
		tb.Fatal(err)
	}
	if err := s3blob.CreateBucket(ctx, home.S3, name, true); err != nil {
		tb.Fatal(err)
	}
	jobs, err := sqsqueue.CreateQueue(ctx, testenv.SQS(tb), name, sqsqueue.Queue{Region: "us-east-1"})
	if err != nil {
		tb.Fatal(err)
	}
	seed := seedtest.E2E(tb)
	if err := (directory.Directory{Store: home.Store}).Load(ctx, seed, rules.Default(), auth.HashSecretKey); err != nil {
		tb.Fatal(err)
	}

	// The identity provider: a dev issuer whose JWKS is served on loopback,
	// standing in for Cognito's.
	issuer, err := auth.NewDevIssuer(auth.DevIssuerConfig{Dir: dir, Issuer: "https://idp.goodfaith.test/pool", Audience: "goodfaith-console"})
	if err != nil {
		tb.Fatal(err)
	}
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(issuer.JWKS())
	}))
	tb.Cleanup(jwks.Close)
	token, err := issuer.Mint("prov_tx_md", time.Hour)
	if err != nil {
		tb.Fatal(err)
	}
	posted := &atomic.Int64{}
	mgmt := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, "/prod/@connections/") || !strings.Contains(r.Header.Get("Authorization"), "/execute-api/aws4_request") {
			http.Error(w, "unexpected request", http.StatusBadRequest)
			return
		}
		posted.Add(1)
	}))
	tb.Cleanup(mgmt.Close)

	return lambdaEnv{providerToken: token, signalEndpoint: mgmt.URL + "/prod", posted: posted, kms: kms, kmsKey: kmsKey, kmsRetired: kmsRetired, vars: map[string]string{
		// template.yaml (Globals.Function.Environment)
		app.EnvTableName:           name,
		app.EnvBucketName:          name,
		app.EnvSSEKMSKeyID:         kmsKey,
		app.EnvPatientTokenSecret:  "lambda smoke test patient-token secret, 32+ bytes",
		app.EnvPSOKMSKeyID:         kmstest.ARN(kmsKey),
		app.EnvPSOKMSRetiredKeyIDs: kmstest.ARN(kmsRetired),
		app.EnvProviderIssuer:      issuer.Issuer(),
		app.EnvProviderAudience:    issuer.Audience(),
		app.EnvProviderJWKSURL:     jwks.URL + "/jwks.json",
		app.EnvPublicOrigin:        "https://app.goodfaith.test",
		app.EnvVerifyBaseURL:       "https://app.goodfaith.test/v1/psos/",
		app.EnvRetentionYears:      "1",
		app.EnvWebhookQueueURL:     jobs.URL,
		"SECRETS_REVISION":         "1",
		// the Lambda runtime
		app.EnvRegion:                     "us-east-1",
		"AWS_DEFAULT_REGION":              "us-east-1",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"_HANDLER":                        "bootstrap",
		"TZ":                              ":UTC",
		// the test services
		app.EnvDynamoDBEndpoint: ddb,
		app.EnvS3Endpoint:       s3.Endpoint,
		"AWS_ACCESS_KEY_ID":     s3.AccessKey,
		"AWS_SECRET_ACCESS_KEY": s3.SecretKey,
		"AWS_ENDPOINT_URL_KMS":  kms.URL,
	}}
}

// ---- running a bootstrap

// lambdaProc is one bootstrap process and its Runtime API.
type lambdaProc struct {
	api     *runtimeapi.Server
	cmd     *exec.Cmd
	stderr  *testenv.LogBuffer
	started time.Time
	exited  chan struct{} // closed when the process has exited
	waitErr error         // its exit status, once exited is closed
}

// startFunction starts functions/<name>'s bootstrap with env (and nothing
// of this process's environment but PATH), as Lambda does.
func startFunction(tb testing.TB, bins, name string, env map[string]string) *lambdaProc {
	tb.Helper()
	api := runtimeapi.New()
	p := &lambdaProc{api: api, stderr: &testenv.LogBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(filepath.Join(bins, name, "bootstrap"))
	p.cmd.Dir = filepath.Join(bins, name) // LAMBDA_TASK_ROOT
	p.cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		lambdaruntime.APIVar + "=" + api.Addr(),
		"AWS_LAMBDA_FUNCTION_NAME=goodfaith-" + name,
		"LAMBDA_TASK_ROOT=" + p.cmd.Dir,
	}
	for k, v := range env {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	p.cmd.Stderr = p.stderr
	p.cmd.Stdout = p.stderr
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		api.Close()
		tb.Fatal(err)
	}
	go func() { p.waitErr = p.cmd.Wait(); close(p.exited) }()
	tb.Cleanup(func() {
		api.Close()
		select {
		case <-p.exited:
		case <-time.After(5 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
		if tb.Failed() {
			tb.Logf("%s stderr:\n%s", name, p.stderr.String())
		}
	})
	return p
}

// invoke sends payload and waits for its result.
func (p *lambdaProc) invoke(tb testing.TB, payload []byte) runtimeapi.Result {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	inv := p.api.Invoke(payload, 10*time.Second) // the template's Timeout
	res, err := inv.Wait(ctx)
	if err != nil {
		select {
		case <-p.exited:
			tb.Fatalf("the function exited (%v) before answering; stderr:\n%s", p.waitErr, p.stderr.String())
		default:
		}
		tb.Fatal(err)
	}
	if v := p.api.Violations(); len(v) > 0 {
		tb.Errorf("Runtime API protocol violations: %q", v)
	}
	return res
}

func golden(tb testing.TB, name string, replace ...string) []byte {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "events", name))
	if err != nil {
		tb.Fatal(err)
	}
	return []byte(strings.NewReplacer(replace...).Replace(string(raw)))
}

// httpResponse reads an HTTP API (payload 2.0) response document.
func httpResponse(tb testing.TB, res runtimeapi.Result) (events.APIGatewayV2HTTPResponse, map[string]any) {
	tb.Helper()
	if res.Error != nil {
		tb.Fatalf("invocation error %s: %s", res.Error.ErrorType, res.Error.ErrorMessage)
	}
	var r events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(res.Response, &r); err != nil {
		tb.Fatalf("response is not an HTTP API response: %v\n%s", err, res.Response)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(r.Body), &body); err != nil {
		tb.Fatalf("status %d, body is not JSON: %v\n%s", r.StatusCode, err, r.Body)
	}
	return r, body
}

// ---- the tests

// smokeCase is one function's golden event and what its answer must hold.
type smokeCase struct {
	event string
	check func(t *testing.T, env lambdaEnv, res runtimeapi.Result)
}

var smokeCases = map[string]smokeCase{
	"public": {"lambda-public-jwks.json", func(t *testing.T, env lambdaEnv, res runtimeapi.Result) {
		r, body := httpResponse(t, res)
		keys, _ := body["keys"].([]any)
		if r.StatusCode != 200 || len(keys) != 2 {
			t.Fatalf("GET /.well-known/jwks.json: %d %v; want the KMS signing key and the retired one", r.StatusCode, body)
		}
		for i, want := range []string{env.kmsKey, env.kmsRetired} {
			key, _ := keys[i].(map[string]any)
			if key["kty"] != "EC" || key["crv"] != "P-256" || key["kid"] == "" || key["d"] != nil {
				t.Errorf("JWKS key %v; want a public P-256 key", key)
			}
			x, _ := base64.RawURLEncoding.DecodeString(fmt.Sprint(key["x"]))
			if pub := env.kms.Public(want); pub == nil || new(big.Int).SetBytes(x).Cmp(pub.X) != 0 {
				t.Errorf("JWKS key %d (%v) is not the KMS key %s", i, key["kid"], want)
			}
		}
	}},
	"patient": {"lambda-patient-widget-config.json", func(t *testing.T, env lambdaEnv, res runtimeapi.Result) {
		r, body := httpResponse(t, res)
		if r.StatusCode != 200 {
			t.Fatalf("GET /v1/widget/config: %d %v", r.StatusCode, body)
		}
		if id, _ := get(body, "clinic", "id").(string); id != "clinic_a" {
			t.Errorf("clinic.id = %v, want the seeded clinic_a", get(body, "clinic", "id"))
		}
		if q := asMap(body["questionnaires"]); q["neurotoxin"] == nil {
			t.Errorf("no neurotoxin questionnaire in %v", body)
		}
		if got := r.Headers["Access-Control-Allow-Origin"]; got != "https://clinic-a.example" {
			t.Errorf("Access-Control-Allow-Origin = %q, want the clinic's origin", got)
		}
	}},
	"clinic": {"lambda-clinic-exams.json", func(t *testing.T, env lambdaEnv, res runtimeapi.Result) {
		r, body := httpResponse(t, res)
		items, isList := body["items"].([]any)
		if r.StatusCode != 200 || !isList || len(items) != 0 {
			t.Fatalf("GET /v1/clinic/exams: %d %v; want 200 and no exams yet", r.StatusCode, body)
		}
	}},
	"provider": {"lambda-provider-queue.json", func(t *testing.T, env lambdaEnv, res runtimeapi.Result) {
		r, body := httpResponse(t, res)
		items, isList := body["items"].([]any)
		if r.StatusCode != 200 || !isList || len(items) != 0 {
			t.Fatalf("GET /v1/provider/queue: %d %v; want 200 and an empty queue", r.StatusCode, body)
		}
	}},
	"sweep": {"eventbridge-scheduled.json", scheduledCheck("sweep", "escalated", "expired", "leases_expired", "connections_dropped")},
	"webhooks": {"sqs-webhook-jobs.json", func(t *testing.T, env lambdaEnv, res runtimeapi.Result) {
		if res.Error != nil {
			t.Fatalf("invocation error %s: %s", res.Error.ErrorType, res.Error.ErrorMessage)
		}
		// Jobs of deliveries that do not exist, and a body that is not a
		// job, are dropped: handled, so none is reported.
		if string(res.Response) != `{"batchItemFailures":[]}` {
			t.Fatalf("answer %s; want an SQS batch response with no failures", res.Response)
		}
	}},
	"close": {"eventbridge-scheduled.json", scheduledCheck("close")},
	"signal": {"apigw-ws-connect-provider.json", func(t *testing.T, env lambdaEnv, res runtimeapi.Result) {
		if res.Error != nil {
			t.Fatalf("invocation error %s: %s", res.Error.ErrorType, res.Error.ErrorMessage)
		}
		var r events.APIGatewayProxyResponse
		if err := json.Unmarshal(res.Response, &r); err != nil {
			t.Fatalf("response is not a WebSocket route response: %v\n%s", err, res.Response)
		}
		if r.StatusCode != 200 {
			t.Fatalf("$connect with a provider token: status %d; want 200 (the connection is accepted)", r.StatusCode)
		}
	}},
	"dispatch": {"dynamodb-stream-malformed.json", func(t *testing.T, env lambdaEnv, res runtimeapi.Result) {
		if res.Error != nil {
			t.Fatalf("invocation error %s: %s", res.Error.ErrorType, res.Error.ErrorMessage)
		}
		var r events.DynamoDBEventResponse
		if err := json.Unmarshal(res.Response, &r); err != nil {
			t.Fatalf("response is not a batch response: %v\n%s", err, res.Response)
		}
		// The batch's second record cannot be read: it and the rest are
		// reported, so that Lambda retries from there.
		if len(r.BatchItemFailures) == 0 {
			t.Fatalf("no batch item failures reported for a malformed record: %s", res.Response)
		}
	}},
}

// scheduledCheck checks a scheduled job's answer (lambdaschedule.Result):
// the job ran, against DynamoDB Local, and reported the counts named.
func scheduledCheck(job string, counts ...string) func(t *testing.T, env lambdaEnv, res runtimeapi.Result) {
	return func(t *testing.T, env lambdaEnv, res runtimeapi.Result) {
		if res.Error != nil {
			t.Fatalf("invocation error %s: %s", res.Error.ErrorType, res.Error.ErrorMessage)
		}
		var r lambdaschedule.Result
		if err := json.Unmarshal(res.Response, &r); err != nil {
			t.Fatalf("response is not a lambdaschedule.Result: %v\n%s", err, res.Response)
		}
		if r.Job != job || r.Time.IsZero() || len(r.Counts) != len(counts) {
			t.Fatalf("answer %s; want job %s with counts %v", res.Response, job, counts)
		}
		for _, c := range counts {
			if _, ok := r.Counts[c]; !ok {
				t.Errorf("answer %s lacks count %s", res.Response, c)
			}
		}
	}
}

// TestBootstrapsAnswerGoldenEvents runs every function's bootstrap against
// the Runtime API double and checks its answer to a golden event; every
// functions/ folder must have a case.
func TestBootstrapsAnswerGoldenEvents(t *testing.T) {
	bins := bootstraps(t)
	env := awsEnv(t)
	for _, name := range functionNames(t) {
		c, ok := smokeCases[name]
		if !ok {
			t.Errorf("functions/%s has no runtime smoke case", name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			p := startFunction(t, bins, name, env.varsFor(name))
			res := p.invoke(t, golden(t, c.event, "PROVIDER_TOKEN", env.providerToken, "{{provider_token}}", env.providerToken))
			c.check(t, env, res)
		})
	}
}

// TestBootstrapReportsAnInvocationErrorAndServesOn sends the patient
// function an event that is not an HTTP API request: the runtime must post
// it to …/error, and the same process must then answer a good event.
func TestBootstrapReportsAnInvocationErrorAndServesOn(t *testing.T) {
	bins := bootstraps(t)
	env := awsEnv(t)
	p := startFunction(t, bins, "patient", env.vars)
	res := p.invoke(t, []byte(`"not an API Gateway event"`))
	if res.Error == nil {
		t.Fatalf("a malformed event was answered: %s", res.Response)
	}
	if !strings.Contains(res.Error.ErrorMessage, "cannot unmarshal") {
		t.Errorf("error report %+v; want the decoding error", res.Error)
	}
	smokeCases["patient"].check(t, env, p.invoke(t, golden(t, smokeCases["patient"].event)))
}

// TestBootstrapReportsInitErrors starts each function without TABLE_NAME
// and with an invalid PSO signing key: it must post init/error naming the
// variables (never a secret's value), call …/next never, and exit non-zero.
func TestBootstrapReportsInitErrors(t *testing.T) {
	bins := bootstraps(t)
	env := map[string]string{
		app.EnvBucketName:         "b",
		app.EnvPatientTokenSecret: "a patient token secret of thirty-two bytes or more",
		app.EnvPSOSigningKeyPEM:   "SECRET-NOT-A-PEM",
		app.EnvProviderIssuer:     "https://idp.goodfaith.test/pool",
		app.EnvProviderAudience:   "console",
		app.EnvProviderJWKSURL:    "https://idp.goodfaith.test/pool/.well-known/jwks.json",
		app.EnvPublicOrigin:       "https://app.goodfaith.test",
		app.EnvVerifyBaseURL:      "https://app.goodfaith.test/v1/psos/",
		app.EnvRegion:             "us-east-1",
	}
	for _, name := range functionNames(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := startFunction(t, bins, name, env)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			rep, err := p.api.InitError(ctx)
			if err != nil {
				t.Fatalf("%v; stderr:\n%s", err, p.stderr.String())
			}
			if rep.Type != lambdaruntime.ErrorTypeConfig || rep.ErrorType != lambdaruntime.ErrorTypeConfig {
				t.Errorf("error type header %q, body %q; want %s", rep.Type, rep.ErrorType, lambdaruntime.ErrorTypeConfig)
			}
			for _, want := range []string{app.EnvTableName, app.EnvPSOSigningKeyPEM} {
				if !strings.Contains(rep.ErrorMessage, want) {
					t.Errorf("init error %q does not name %s", rep.ErrorMessage, want)
				}
			}
			if strings.Contains(rep.ErrorMessage, "SECRET-NOT-A-PEM") || strings.Contains(p.stderr.String(), "SECRET-NOT-A-PEM") {
				t.Error("the init error quotes the signing key's value")
			}
			select {
			case <-p.exited:
				if p.waitErr == nil {
					t.Error("the function exited with status 0 after an init error")
				}
			case <-ctx.Done():
				t.Fatal("the function did not exit after its init error")
			}
			next, cancelNext := context.WithTimeout(context.Background(), 10*time.Millisecond)
			defer cancelNext()
			if _, err := p.api.NextCalled(next); err == nil {
				t.Error("the function asked for an invocation after failing to start")
			}
			if v := p.api.Violations(); len(v) > 0 {
				t.Errorf("protocol violations %q", v)
			}
		})
	}
}

// TestSignalBootstrapNamesItsEndpoint starts the signal function in a full
// environment but for SIGNAL_MANAGEMENT_ENDPOINT: it must report an init
// error naming the variable and exit.
func TestSignalBootstrapNamesItsEndpoint(t *testing.T) {
	bins := bootstraps(t)
	env := awsEnv(t)
	p := startFunction(t, bins, "signal", env.vars)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rep, err := p.api.InitError(ctx)
	if err != nil {
		t.Fatalf("%v; stderr:\n%s", err, p.stderr.String())
	}
	if rep.ErrorType != lambdaruntime.ErrorTypeConfig || !strings.Contains(rep.ErrorMessage, app.EnvSignalEndpoint) {
		t.Errorf("init error %+v; want %s naming %s", rep, lambdaruntime.ErrorTypeConfig, app.EnvSignalEndpoint)
	}
	select {
	case <-p.exited:
	case <-ctx.Done():
		t.Fatal("the function did not exit after its init error")
	}
}

// BenchmarkColdStart measures, per function, a cold start as Lambda has
// it: from starting the bootstrap process to the Runtime API receiving the
// answer to its first event (the golden event of the smoke test, against
// DynamoDB Local and MinIO on loopback). It reports the mean in ms/cold
// (the goal is 50) and the median in ms/cold-median, the part before the
// first GET …/next in ms/init, and the binary's size in MB (this machine's
// architecture; `make lambdas` prints the arm64 sizes that are deployed;
// the goal is 15).
//
// Every timed run is a new process. Before them, warmUpRuns untimed runs
// give the emulators the calls this function makes: DynamoDB Local is a
// JVM whose first answers to a new kind of request take several times
// longer until its JIT has compiled them (here the first run of a function
// took 112–117 ms where its tenth took 41–47, and the mean of 20 runs after
// 5 warm-up runs was 5–9 ms above the one after 25), a cost of the
// emulator that DynamoDB itself does not have.
//
//	make lambda-bench
func BenchmarkColdStart(b *testing.B) {
	bins := bootstraps(b)
	env := awsEnv(b)
	for _, name := range functionNames(b) {
		c, ok := smokeCases[name]
		if !ok {
			b.Fatalf("functions/%s has no smoke case", name)
		}
		payload := golden(b, c.event, "PROVIDER_TOKEN", env.providerToken, "{{provider_token}}", env.providerToken)
		b.Run(name, func(b *testing.B) {
			for range warmUpRuns {
				coldStart(b, bins, name, env.varsFor(name), payload)
			}
			var colds []time.Duration
			var cold, initPhase time.Duration
			for b.Loop() {
				c, i := coldStart(b, bins, name, env.varsFor(name), payload)
				colds = append(colds, c)
				cold += c
				initPhase += i
			}
			fi, err := os.Stat(filepath.Join(bins, name, "bootstrap"))
			if err != nil {
				b.Fatal(err)
			}
			n := float64(b.N)
			b.ReportMetric(float64(cold.Microseconds())/n/1000, "ms/cold")
			b.ReportMetric(float64(median(colds).Microseconds())/1000, "ms/cold-median")
			b.ReportMetric(float64(initPhase.Microseconds())/n/1000, "ms/init")
			b.ReportMetric(float64(fi.Size())/1e6, "MB/binary")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// median is the middle of ds, or the mean of its two middle values.
func median(ds []time.Duration) time.Duration {
	ds = slices.Sorted(slices.Values(ds))
	mid := len(ds) / 2
	if len(ds)%2 == 0 {
		return (ds[mid-1] + ds[mid]) / 2
	}
	return ds[mid]
}

// warmUpRuns is how many untimed runs of a function precede the timed ones
// (BenchmarkColdStart).
const warmUpRuns = 20

// coldStart starts a new bootstrap process of the function, gives it the
// event and waits for the answer. It returns the time from the process
// start to the answer, and to the function's first GET …/next.
func coldStart(b *testing.B, bins, name string, vars map[string]string, payload []byte) (cold, initPhase time.Duration) {
	b.Helper()
	p := startFunction(b, bins, name, vars)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	inv := p.api.Invoke(payload, 10*time.Second)
	next, err := p.api.NextCalled(ctx)
	if err != nil {
		b.Fatalf("%v; stderr:\n%s", err, p.stderr.String())
	}
	res, err := inv.Wait(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if res.Error != nil {
		b.Fatalf("invocation error: %s", res.Error.ErrorMessage)
	}
	p.api.Close() // the process exits when its next GET …/next fails
	<-p.exited
	return res.At.Sub(p.started), next.Sub(p.started)
}
