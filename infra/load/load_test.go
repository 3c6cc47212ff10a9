package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A short run on the embedded store ends verified, with every endpoint of
// the lifecycle measured and no errors.
func TestShortRunEmbeddedVerifies(t *testing.T) {
	out := filepath.Join(t.TempDir(), "result.json")
	var stdout, stderr bytes.Buffer
	code := runMain(context.Background(), []string{"-rate", "4", "-duration", "2s", "-quiet", "-json", out,
		"-mix", "approved=60,deferred=20,denied=20,cancel=20", "-read-ratio", "200ms"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var res Result
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatal(err)
	}
	v := res.Verification
	if res.Exams == 0 || v.Submitted != int(res.Exams) || v.Final != v.Submitted || !v.OK() {
		t.Fatalf("verification %+v for %d submitted", v, res.Exams)
	}
	if len(res.Errors) != 0 {
		t.Fatalf("errors: %v", res.Errors)
	}
	seen := map[string]bool{}
	for _, e := range res.Endpoints {
		seen[e.Endpoint] = true
		if e.P50ms > e.P95ms || e.P95ms > e.P99ms || e.P99ms > e.Maxms {
			t.Errorf("%s: quantiles out of order: %+v", e.Endpoint, e)
		}
	}
	for _, want := range []string{"POST /v1/exams", "PUT upload_url (blob)", "PUT /v1/exams/{id}/intake", "POST /v1/exams/{id}/submit",
		"POST /v1/provider/exams/{id}/claim", "POST /v1/provider/exams/{id}/decision"} {
		if !seen[want] {
			t.Errorf("no %s in %v", want, res.Endpoints)
		}
	}
	if res.ReadRatio == nil || !(res.ReadRatio.OursPerSec > 0) || !(res.ReadRatio.BarePerSec > 0) {
		t.Errorf("read ratio %+v", res.ReadRatio)
	}
	if !strings.Contains(stdout.String(), "end state: OK") {
		t.Errorf("stdout lacks the verdict:\n%s", stdout.String())
	}
}

// The end-state check is not a rubber stamp: a tampered PSO, a charge for
// an exam that is not billable and an exam left unfinished each fail it.
func TestVerifyCatchesProblems(t *testing.T) {
	ctx := context.Background()
	srv, err := serve(ctx, "embedded", loadSeed, 256, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cfg := Config{Rate: 5, Duration: time.Second, Concurrency: 5, Workers: 1, Mix: Mix{Approved: 100},
		Clinics: []Clinic{{PK: "pk_test_load_a", SK: "sk_test_load_a"}}, States: []string{"TX"}, Treatments: []string{"neurotoxin"},
		Poll: time.Second, Drain: 20 * time.Second}
	r := &run{cfg: cfg, c: newClient(srv.URL, 16), exams: map[string]*examRecord{}}
	resp, err := r.c.call(ctx, "token", "POST", "/dev/token", nil, map[string]string{"provider_id": "prov_load_tx"}, 200)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct{ Token string }
	if err := resp.decode(&tok); err != nil {
		t.Fatal(err)
	}
	before, err := r.usageBefore(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r.play(ctx, []string{tok.Token})
	v, err := r.verify(ctx, before, 10*time.Second)
	if err != nil || !v.OK() || v.PSOs == 0 {
		t.Fatalf("clean run: %+v, %v", v, err)
	}

	// Tamper with one PSO's payload (sha256 recomputed so only the signature can tell).
	r.mu.Lock()
	var victim *examRecord
	for _, e := range r.exams {
		if e.JWS != "" {
			victim = e
			break
		}
	}
	parts := strings.Split(victim.JWS, ".")
	parts[1] = parts[1][:len(parts[1])-2] + map[bool]string{true: "AA", false: "AB"}[!strings.HasSuffix(parts[1], "AA")]
	victim.JWS = strings.Join(parts, ".")
	victim.SHA256 = sha256Hex(victim.JWS)
	// Claim a billable exam was cancelled: its charge is then not owed.
	var other *examRecord
	for _, e := range r.exams {
		if e != victim && e.Outcome != "" {
			other = e
			break
		}
	}
	if other != nil {
		other.Outcome, other.Cancelled = "", true
	}
	r.mu.Unlock()
	v, err = r.verify(ctx, before, 500*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if v.OK() || len(v.PSOProblems) == 0 {
		t.Fatalf("tampered PSO passed: %+v", v)
	}
	if other != nil && len(v.Mismatched) == 0 {
		t.Fatalf("an exam whose outcome differs from the server's passed: %+v", v)
	}

	// An exam submitted but never decided is lost.
	r.mu.Lock()
	r.exams["exam_does_not_exist"] = &examRecord{ID: "exam_does_not_exist", SK: "sk_test_load_a", Submitted: true}
	r.mu.Unlock()
	if _, err := r.verify(ctx, before, 100*time.Millisecond); err == nil {
		t.Fatal("an exam the server does not know verified")
	}
}

func TestAnswersCompleteRequiredItemsOnly(t *testing.T) {
	var q questionnaire
	if err := json.Unmarshal([]byte(`{"item":[
		{"linkId":"pregnant","type":"boolean","required":true},
		{"linkId":"details","type":"text","required":true,"enableWhen":[{"question":"pregnant","answerBoolean":true}]},
		{"linkId":"meds","type":"text","required":true},
		{"linkId":"weight_lb","type":"decimal","required":true},
		{"linkId":"skin","type":"choice","required":true,"answerOption":[{"valueCoding":{"code":"I"}},{"valueCoding":{"code":"II"}}]},
		{"linkId":"g","type":"group","item":[{"linkId":"n","type":"integer","required":true}]},
		{"linkId":"optional","type":"boolean"},
		{"linkId":"photos","type":"attachment"}]}`), &q); err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(answers(q, []string{"att_1"}))
	want := `{"meds":"none","n":1,"photos":["att_1"],"pregnant":false,"skin":"I","weight_lb":165.5}`
	if string(got) != want {
		t.Fatalf("answers = %s, want %s", got, want)
	}
}

func TestCheckTargetKeepsToLoopback(t *testing.T) {
	for u, ok := range map[string]bool{"http://127.0.0.1:8080": true, "http://localhost:1": true, "http://[::1]:80": true,
		"https://api.example.com": false, "http://10.0.0.1:80": false, "ftp://127.0.0.1": false} {
		if err := checkTarget(u, false); (err == nil) != ok {
			t.Errorf("%s: err %v", u, err)
		}
	}
	if checkTarget("https://api.example.com", true) != nil {
		t.Error("-allow-remote refused a remote URL")
	}
}

func TestQuantileNearestRank(t *testing.T) {
	ds := make([]time.Duration, 100)
	for i := range ds {
		ds[i] = time.Duration(i+1) * time.Millisecond
	}
	if quantile(ds, 0.5) != 50*time.Millisecond || quantile(ds, 0.99) != 99*time.Millisecond || quantile(ds, 1) != 100*time.Millisecond {
		t.Fatalf("p50 %v p99 %v p100 %v", quantile(ds, 0.5), quantile(ds, 0.99), quantile(ds, 1))
	}
}

// The bench table reports what it found and says "not measured" for what
// it did not, never a made-up figure.
func TestSummaryMarksMissingFigures(t *testing.T) {
	dir := t.TempDir()
	res := Result{ExamsPerSec: 12.5, Decided: 100, Seconds: 8, Verification: Verification{NotFinal: []string{"exam_x"}}, Endpoints: []EndpointSummary{{Endpoint: "POST /v1/exams", P99ms: 20}},
		ReadRatio: &ReadRatio{OursPerSec: 4000, BarePerSec: 8000, Ratio: 0.5}}
	raw, _ := json.Marshal(res)
	os.WriteFile(filepath.Join(dir, "embedded.json"), raw, 0o644)
	os.WriteFile(filepath.Join(dir, "gobench.txt"), []byte("BenchmarkRenderPDF-2   \t      30\t  19418897 ns/op\n"), 0o644)
	var out bytes.Buffer
	if err := summary(dir, &out); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{"12.50 (100 decided", "END STATE FAILED", "20.0 ms (POST /v1/exams)", "19.419 ms/op", "= 50%",
		"DynamoDB Local + MinIO | not measured", "infra cost per exam", "Lambda cold start", "widget sizes"} {
		if !strings.Contains(strings.Join(strings.Fields(s), " "), strings.Join(strings.Fields(want), " ")) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
}
