package lambdasqs_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/goodfaith/goodfaith/internal/golden"
	"github.com/goodfaith/goodfaith/internal/lambdaschedule"
	"github.com/goodfaith/goodfaith/internal/lambdasqs"
	"github.com/goodfaith/goodfaith/internal/queue"
)

const eventsDir = "../../testdata/events"

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func readRaw(t *testing.T, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(eventsDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func readEvent(t *testing.T, name string) events.SQSEvent {
	t.Helper()
	var e events.SQSEvent
	if err := json.Unmarshal(readRaw(t, name), &e); err != nil {
		t.Fatal(err)
	}
	return e
}

// recorder is a Handle that records the messages it got and fails the ones
// whose id is in fail.
type recorder struct {
	mu   sync.Mutex
	got  []queue.Message
	fail map[string]bool
}

func (r *recorder) handle(_ context.Context, msgs []queue.Message) []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, msgs...)
	errs := make([]error, len(msgs))
	for i, m := range msgs {
		if r.fail[m.ID] {
			errs[i] = errors.New("store throttled")
		}
	}
	return errs
}

type scenario struct {
	Name     string          `json:"name"`
	Messages []queue.Message `json:"messages"`
	Response json.RawMessage `json:"response"`
}

// TestGoldenSQSEvents runs every testdata/events/sqs-*.json through the
// handler — every message handled, then each one failing — and compares
// the messages handed on and the response (as Lambda reads it) with a
// golden file. Run with -update to rewrite them.
func TestGoldenSQSEvents(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(eventsDir, "sqs-*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("want SQS events, found %d (%v)", len(files), err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			e := readEvent(t, filepath.Base(file))
			var scenarios []scenario
			play := func(label string, rec *recorder) {
				resp, err := lambdasqs.Handler("test", rec.handle, quiet)(context.Background(), e)
				if err != nil {
					t.Fatalf("%s: %v", label, err)
				}
				raw, err := json.Marshal(resp)
				if err != nil {
					t.Fatal(err)
				}
				scenarios = append(scenarios, scenario{Name: label, Messages: rec.got, Response: raw})
			}
			play("every message handled", &recorder{})
			for _, r := range e.Records {
				play("message "+r.MessageId+" fails", &recorder{fail: map[string]bool{r.MessageId: true}})
			}
			out, err := json.MarshalIndent(scenarios, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, '\n')
			golden.Check(t, filepath.Join("testdata", name+".golden.json"), out)
		})
	}
}

// The golden file's key facts, spelled out: a failure names its message,
// success reports an empty list, the receive count is carried.
func TestPartialBatchFailures(t *testing.T) {
	e := readEvent(t, "sqs-webhook-jobs.json")
	second := e.Records[1].MessageId
	rec := &recorder{fail: map[string]bool{second: true}}
	resp, err := lambdasqs.Handler("test", rec.handle, quiet)(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != second {
		t.Fatalf("failures %+v, want only %s", resp.BatchItemFailures, second)
	}
	if len(rec.got) != 3 || rec.got[1].ReceiveCount != 3 || rec.got[1].Receipt != e.Records[1].ReceiptHandle || rec.got[2].Body != "not a job" {
		t.Fatalf("messages handed on: %+v", rec.got)
	}
	resp, err = lambdasqs.Handler("test", (&recorder{}).handle, quiet)(context.Background(), e)
	raw, _ := json.Marshal(resp)
	if err != nil || string(raw) != `{"batchItemFailures":[]}` {
		t.Fatalf("success answered %s, %v", raw, err)
	}
}

// A record that is not an SQS message, or has no id to report, fails the
// invocation before anything is handled.
func TestUnnamedOrForeignRecordsFailTheBatch(t *testing.T) {
	for _, mutate := range []func(*events.SQSMessage){
		func(m *events.SQSMessage) { m.MessageId = "" },
		func(m *events.SQSMessage) { m.EventSource = "aws:kinesis" },
	} {
		e := readEvent(t, "sqs-webhook-jobs.json")
		mutate(&e.Records[2])
		rec := &recorder{}
		if _, err := lambdasqs.Handler("test", rec.handle, quiet)(context.Background(), e); !errors.Is(err, lambdasqs.ErrNotSQS) {
			t.Fatalf("err = %v, want ErrNotSQS", err)
		}
		if len(rec.got) != 0 {
			t.Fatalf("%d messages handled from a refused batch", len(rec.got))
		}
	}
}

// One function, two triggers: SQS batches go to the consumer, scheduled
// events to the job, anything else is refused.
func TestWithScheduleRoutesByEventShape(t *testing.T) {
	rec := &recorder{}
	ran := 0
	h := lambdasqs.WithSchedule(lambdasqs.Handler("webhooks", rec.handle, quiet),
		lambdaschedule.Handler("webhook-redrive", func(context.Context) (map[string]int, error) {
			ran++
			return map[string]int{"redriven": 2}, nil
		}, quiet))
	out, err := h(context.Background(), readRaw(t, "sqs-webhook-jobs.json"))
	if resp, ok := out.(events.SQSEventResponse); err != nil || !ok || len(rec.got) != 3 || ran != 0 || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("SQS event: %#v %v, %d messages, job ran %d times", out, err, len(rec.got), ran)
	}
	out, err = h(context.Background(), readRaw(t, "eventbridge-scheduled.json"))
	if res, ok := out.(lambdaschedule.Result); err != nil || !ok || ran != 1 || res.Counts["redriven"] != 2 || !res.Time.Equal(time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)) {
		t.Fatalf("scheduled event: %#v %v, job ran %d times", out, err, ran)
	}
	if _, err := h(context.Background(), json.RawMessage(`{"detail-type":"Object Created","source":"aws.s3"}`)); !errors.Is(err, lambdaschedule.ErrNotScheduled) || ran != 1 {
		t.Fatalf("foreign event: %v, job ran %d times", err, ran)
	}
	if _, err := h(context.Background(), json.RawMessage(`[1,2]`)); err == nil {
		t.Fatal("a JSON array was accepted")
	}
}
