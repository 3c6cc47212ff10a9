package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"

	"github.com/goodfaith/goodfaith/internal/app"
	"github.com/goodfaith/goodfaith/internal/app/localhome"
	"github.com/goodfaith/goodfaith/internal/auth"
	"github.com/goodfaith/goodfaith/internal/blob/s3blob"
	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/directory"
	"github.com/goodfaith/goodfaith/internal/httpapi"
	"github.com/goodfaith/goodfaith/internal/queue/sqsqueue"
	"github.com/goodfaith/goodfaith/internal/signer"
	"github.com/goodfaith/goodfaith/internal/store"
	"github.com/goodfaith/goodfaith/internal/store/dynamo"
	"github.com/goodfaith/goodfaith/internal/store/dynamo/streamfeed"
	"github.com/goodfaith/goodfaith/internal/testenv"
)

// env is one running Goodfaith and the means to call it.
type env struct {
	t      testing.TB
	URL    string
	App    *app.App
	Store  store.Store
	Feed   store.ChangeFeed
	Issuer *auth.DevIssuer
	client *http.Client
}

// home builds an env on one of the two homes.
type home struct {
	name string
	open func(t testing.TB, consumers bool) *env
}

// homes are the two homes every end-to-end test runs on.
var homes = []home{{"embedded", openEmbedded}, {"aws", openAWS}}

func forEachHome(t *testing.T, fn func(t *testing.T, open func(t testing.TB, consumers bool) *env)) {
	for _, h := range homes {
		t.Run(h.name, func(t *testing.T) { fn(t, h.open) })
	}
}

var seed = func() directory.Seed {
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "seed", "e2e.json"))
	if err != nil {
		panic(err)
	}
	s, err := directory.ParseSeed(raw)
	if err != nil {
		panic(err)
	}
	return s
}()

// logs keeps every log line the servers under test write (at debug level),
// so tests can assert that no PHI reaches them. E2E_LOG=1 also prints them.
var logs testenv.LogBuffer

func quietLog() *slog.Logger {
	var w io.Writer = &logs
	if os.Getenv("E2E_LOG") != "" {
		w = io.MultiWriter(&logs, os.Stderr)
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// start serves ports on a loopback test server and seeds it.
func start(t testing.TB, srv *httptest.Server, ports app.Ports, patientSecret []byte, feed store.ChangeFeed, blobs http.Handler, consumers bool) *env {
	t.Helper()
	dir := t.TempDir()
	base := "http://" + srv.Listener.Addr().String()
	issuer, err := auth.NewDevIssuer(auth.DevIssuerConfig{Dir: dir, Issuer: base + "/dev"})
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := issuer.Verifier()
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(ports, app.Settings{
		Log: quietLog(), PatientSecret: patientSecret, TokenIssuer: base, Providers: verifier,
		PublicOrigin: base, VerifyBaseURL: base + "/v1/psos/", DevIssuer: issuer, DevWebhooks: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := a.LoadSeed(ctx, seed); err != nil {
		t.Fatal(err)
	}
	if consumers {
		a.RunConsumers(ctx, feed)
		a.RunIntegrations(ctx)
	}
	mux := http.NewServeMux()
	if blobs != nil {
		mux.Handle(localhome.BlobsPath, blobs)
	}
	mux.Handle("/", a.Handler(httpapi.AllAudiences...))
	srv.Config.Handler = mux
	srv.Start()
	t.Cleanup(srv.Close)
	return &env{t: t, URL: base, App: a, Store: ports.Store, Feed: feed, Issuer: issuer, client: srv.Client()}
}

func openEmbedded(t testing.TB, consumers bool) *env {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	local, err := localhome.Open(t.TempDir(), base, clock.System{}, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { local.Close() })
	return start(t, srv, local.Ports, local.PatientSecret, local.Store, local.BlobHandler(), consumers)
}

var uniq atomic.Int64

func openAWS(t testing.TB, consumers bool) *env {
	t.Helper()
	a := newAWSApp(t, clock.System{})
	srv := httptest.NewUnstartedServer(nil)
	return start(t, srv, a.Ports, awsPatientSecret, awsFeed(t, a), nil, consumers)
}

// awsFeed is the change feed of the AWS home's table on DynamoDB Local.
func awsFeed(t testing.TB, a *app.AWS) store.ChangeFeed {
	endpoint := testenv.DynamoDB(t)
	return streamfeed.NewFromConfig(a.Store, a.Config, func(o *dynamodbstreams.Options) { o.BaseEndpoint = aws.String(endpoint) })
}

// awsPatientSecret signs patient tokens on the AWS home.
var awsPatientSecret = []byte("e2e patient-token secret of 32+ bytes")

// newAWSApp opens the AWS home on DynamoDB Local, MinIO and ElasticMQ (the
// webhook delivery jobs' SQS queue), on a fresh table, bucket and queue,
// with clk as the stores' clock.
func newAWSApp(t testing.TB, clk clock.Clock) *app.AWS {
	t.Helper()
	ddb := testenv.DynamoDB(t)
	s3 := testenv.S3(t)
	ctx := context.Background()
	n := fmt.Sprintf("%d-%d", time.Now().UnixNano()%1e9, uniq.Add(1))
	jobs, err := sqsqueue.CreateQueue(ctx, testenv.SQS(t), "goodfaith-e2e-"+n, sqsqueue.Queue{Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	key, err := signer.LoadOrCreateFileKey(filepath.Join(t.TempDir(), "key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.OpenAWS(ctx, app.AWSConfig{
		Region: "us-east-1", Table: "goodfaith-e2e-" + n, Bucket: "goodfaith-e2e-" + n,
		SSEKMSKey:        os.Getenv(s3blob.KMSKeyIDVar),
		DynamoDBEndpoint: ddb, S3Endpoint: s3.Endpoint, AccessKey: s3.AccessKey, SecretKey: s3.SecretKey,
	}, key, clk, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	a.Ports.Jobs = jobs
	if err := dynamo.CreateTable(ctx, a.DB, "goodfaith-e2e-"+n); err != nil {
		t.Fatal(err)
	}
	if err := s3blob.CreateBucket(ctx, a.S3, "goodfaith-e2e-"+n, true); err != nil {
		t.Fatal(err)
	}
	return a
}

// ---- calling the API ----

type res struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r res) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("response is not JSON (%d): %s", r.Status, r.Body)
	}
	return m
}

// errorCode returns error.code of an error body.
func (r res) errorCode(t testing.TB) string {
	t.Helper()
	e, _ := r.json(t)["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

func (r res) errorField(t testing.TB) string {
	t.Helper()
	e, _ := r.json(t)["error"].(map[string]any)
	f, _ := e["field"].(string)
	return f
}

type hdr map[string]string

func (e *env) do(method, path string, headers hdr, body any) res {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return res{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

func (e *env) must(want int, r res) res {
	e.t.Helper()
	if r.Status != want {
		e.t.Fatalf("status %d, want %d: %s", r.Status, want, r.Body)
	}
	return r
}

func bearer(tok string) hdr { return hdr{"Authorization": "Bearer " + tok} }

func widget(pk string) hdr { return hdr{"X-Goodfaith-Key": pk} }

func (e *env) providerToken(id string) string {
	e.t.Helper()
	r := e.must(200, e.do("POST", "/dev/token", nil, map[string]string{"provider_id": id}))
	return r.json(e.t)["token"].(string)
}

// snapshot is every item but the change feed's own bookkeeping, to assert
// that a refused request changed nothing.
func (e *env) snapshot() map[string]string {
	e.t.Helper()
	sc, ok := e.Store.(store.Scanner)
	if !ok {
		e.t.Fatalf("%T cannot scan", e.Store)
	}
	items, err := sc.Scan(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]string{}
	for _, it := range items {
		if strings.HasPrefix(it.PK, "CHECKPOINT#") {
			continue
		}
		out[it.PK+"|"+it.SK] = fmt.Sprintf("%d|%s|%s|%s", it.Version, it.GSI1SK, it.GSI2PK, it.Data)
	}
	return out
}

func (e *env) assertUnchanged(before map[string]string, what string) {
	e.t.Helper()
	after := e.snapshot()
	if len(after) != len(before) {
		e.t.Fatalf("%s wrote to the store: %d items before, %d after", what, len(before), len(after))
	}
	for k, v := range before {
		if after[k] != v {
			e.t.Fatalf("%s changed %s", what, k)
		}
	}
}

// eventually polls cond for up to 10s.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func containsString(list []any, s string) bool {
	return slices.ContainsFunc(list, func(v any) bool { return v == s })
}
