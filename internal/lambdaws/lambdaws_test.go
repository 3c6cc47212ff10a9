package lambdaws_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/goodfaith/goodfaith/internal/exam"
	"github.com/goodfaith/goodfaith/internal/golden"
	"github.com/goodfaith/goodfaith/internal/lambdaws"
	"github.com/goodfaith/goodfaith/internal/signal/signaltest"
)

const eventsDir = "../../testdata/events"

// step is one event's outcome: the status returned to API Gateway and what
// each connection was sent.
type step struct {
	Event  string                       `json:"event"`
	Status int                          `json:"status"`
	Sent   map[string][]json.RawMessage `json:"sent,omitempty"`
}

var conns = []string{"Nn0TokA=", "PatCnA1=", "PrvCnB2=", "StrCnC3=", "GoneXX9="}

// TestGoldenEvents replays API Gateway WebSocket events through the Lambda
// adapter, in order, and compares statuses and messages with the golden file.
func TestGoldenEvents(t *testing.T) {
	f := signaltest.New(t)
	id := f.QueuedVideoExam("exam_ws1")
	f.QueuedVideoExam("exam_ws2")
	tokens := strings.NewReplacer(
		"{{patient_token}}", f.PatientToken(id),
		"{{provider_token}}", f.ProviderToken("prov_tx_md"),
		"{{stranger_token}}", f.PatientToken("exam_ws2"),
	)
	fn := lambdaws.Handler(f.H, slog.New(slog.NewTextHandler(io.Discard, nil)))
	var got []step
	run := func(name string) {
		raw, err := os.ReadFile(filepath.Join(eventsDir, name))
		if err != nil {
			t.Fatal(err)
		}
		var ev events.APIGatewayWebsocketProxyRequest
		if err := json.Unmarshal([]byte(tokens.Replace(string(raw))), &ev); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		resp, err := fn(context.Background(), ev)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		s := step{Event: name, Status: resp.StatusCode, Sent: map[string][]json.RawMessage{}}
		for _, c := range conns {
			for _, m := range f.Rec.Take(c) {
				b, _ := json.Marshal(m)
				s.Sent[c] = append(s.Sent[c], b)
			}
		}
		got = append(got, s)
	}
	for _, name := range []string{
		"apigw-ws-connect-notoken.json", "apigw-ws-connect-patient.json", "apigw-ws-connect-provider.json",
		"apigw-ws-connect-stranger.json", "apigw-ws-default-join-patient.json", "apigw-ws-default-join-provider.json",
	} {
		run(name)
	}
	// The provider takes the rung exam through the claim use case, then joins.
	if _, err := f.App.Exams.Claim(context.Background(), "prov_tx_md", id); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{
		"apigw-ws-default-join-provider.json", "apigw-ws-default-join-stranger.json", "apigw-ws-default-offer.json",
		"apigw-ws-default-bad.json", "apigw-ws-default-unknown-conn.json", "apigw-ws-disconnect-patient.json",
		"apigw-ws-disconnect-patient.json",
	} {
		run(name)
	}
	if e := f.Exam(id); e.Status != exam.InConsult {
		t.Errorf("exam is %s after both joined", e.Status)
	}
	out, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, '\n')
	golden.Check(t, filepath.Join("testdata", "events.golden.json"), out)
}
