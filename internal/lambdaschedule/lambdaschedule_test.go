package lambdaschedule_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/golden"
	"github.com/goodfaith/goodfaith/internal/lambdaschedule"
	"github.com/goodfaith/goodfaith/internal/queue"
	"github.com/goodfaith/goodfaith/internal/store/boltstore"
	"github.com/goodfaith/goodfaith/internal/webhook"
)

const eventsDir = "../../testdata/events"

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func readEvent(t *testing.T, name string) events.EventBridgeEvent {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(eventsDir, name))
	if err != nil {
		t.Fatal(err)
	}
	var e events.EventBridgeEvent
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return e
}

// TestGoldenScheduledEvent: the event template.yaml's schedules send runs
// the job once, and the answer is the golden one.
func TestGoldenScheduledEvent(t *testing.T) {
	var runs int
	job := func(context.Context) (map[string]int, error) {
		runs++
		return map[string]int{"escalated": 1, "expired": 0}, nil
	}
	res, err := lambdaschedule.Handler("sweep", job, quiet)(context.Background(), readEvent(t, "eventbridge-scheduled.json"))
	if err != nil {
		t.Fatal(err)
	}
	if runs != 1 {
		t.Fatalf("the job ran %d times, want once", runs)
	}
	out, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, '\n')
	golden.Check(t, filepath.Join("testdata", "eventbridge-scheduled.result.json"), out)
}

// Events of other sources (an HTTP request, a stream batch, an empty
// document) are refused without running the job.
func TestOtherEventsAreRefused(t *testing.T) {
	for _, name := range []string{"apigw-v2-get-query.json", "dynamodb-stream.json", "apigw-ws-connect-provider.json"} {
		raw, err := os.ReadFile(filepath.Join(eventsDir, name))
		if err != nil {
			t.Fatal(err)
		}
		var e events.EventBridgeEvent
		_ = json.Unmarshal(raw, &e) // fields that do not fit stay zero
		ran := false
		_, err = lambdaschedule.Handler("sweep", func(context.Context) (map[string]int, error) { ran = true; return nil, nil }, quiet)(context.Background(), e)
		if !errors.Is(err, lambdaschedule.ErrNotScheduled) || ran {
			t.Errorf("%s: err %v, ran %v; want ErrNotScheduled and no run", name, err, ran)
		}
	}
	// An EventBridge rule's scheduled event (source aws.events) is accepted.
	e := readEvent(t, "eventbridge-scheduled.json")
	e.Source = "aws.events"
	if _, err := lambdaschedule.Handler("sweep", func(context.Context) (map[string]int, error) { return nil, nil }, quiet)(context.Background(), e); err != nil {
		t.Errorf("a rule's scheduled event: %v", err)
	}
	e.Time = time.Time{}
	if _, err := lambdaschedule.Handler("sweep", func(context.Context) (map[string]int, error) { return nil, nil }, quiet)(context.Background(), e); !errors.Is(err, lambdaschedule.ErrNotScheduled) {
		t.Errorf("an event without a time: %v", err)
	}
}

// A job's error is the invocation's error, naming the job.
func TestJobErrorFailsTheInvocation(t *testing.T) {
	boom := errors.New("throttled")
	_, err := lambdaschedule.Handler("close", func(context.Context) (map[string]int, error) { return nil, boom }, quiet)(context.Background(), readEvent(t, "eventbridge-scheduled.json"))
	if !errors.Is(err, boom) || err.Error() != "close: throttled" {
		t.Fatalf("err = %v", err)
	}
}

// WebhookRedrive queues again the jobs of deliveries overdue by more than
// the grace (their job was lost: here the first send failed), and only
// those; the consumer then delivers them. Embedded store, in-process queue,
// a receiver on loopback.
func TestWebhookRedriveRequeuesLostJobs(t *testing.T) {
	ctx := context.Background()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := clock.NewFake(time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC))
	var got atomic.Int64
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rcv.Close)
	endpoints := webhook.Endpoints{Store: st, Clock: clk, AllowLoopback: true}
	if _, err := endpoints.Set(ctx, "clinic_a", rcv.URL+"/hooks", false); err != nil {
		t.Fatal(err)
	}
	jobs := &queue.Memory{Clock: clk}
	// The queue refuses the first sends: the records are written, the jobs
	// are lost.
	lossy := webhook.Queue{Store: st, Clock: clk, Jobs: failingSender{}}
	for i := range 3 {
		ev := webhook.Event{ID: "evt_" + string(rune('a'+i)), Type: "exam.decided", CreatedAt: clk.Now(), ClinicID: "clinic_a", Data: json.RawMessage(`{}`)}
		if err := lossy.Enqueue(ctx, ev); err == nil {
			t.Fatal("a failed job send was not reported")
		}
	}
	worker := &webhook.Worker{Queue: webhook.Queue{Store: st, Clock: clk, Jobs: jobs}, Endpoints: endpoints, Batch: 2, Timeout: 2 * time.Second, Log: quiet}
	job := lambdaschedule.WebhookRedrive(worker)

	if counts, err := job(ctx); err != nil || counts["redriven"] != 0 || jobs.Len() != 0 {
		t.Fatalf("within the grace: %v %v, %d jobs; want nothing re-driven", counts, err, jobs.Len())
	}
	clk.Advance(webhook.RedriveGrace + time.Second)
	counts, err := job(ctx)
	if err != nil || counts["redriven"] != 3 || jobs.Len() != 3 {
		t.Fatalf("overdue: %v %v, %d jobs; want 3 re-driven (pages of 2)", counts, err, jobs.Len())
	}
	if n, err := worker.Drain(ctx, jobs); err != nil || n != 3 || got.Load() != 3 {
		t.Fatalf("drain: %d sent, %v, receiver got %d; want 3", n, err, got.Load())
	}
	if counts, err := job(ctx); err != nil || counts["redriven"] != 0 {
		t.Fatalf("after delivery: %v %v; want nothing re-driven", counts, err)
	}
}

type failingSender struct{}

func (failingSender) Send(context.Context, string, time.Duration) error {
	return errors.New("sqs: throttled")
}

// Jobs runs every job even after one fails, merging counts and joining
// errors; Connections reports what the connections sweep dropped.
func TestJobsRunsEveryJob(t *testing.T) {
	boom := errors.New("store unavailable")
	var ran atomic.Int32
	failing := func(context.Context) (map[string]int, error) { ran.Add(1); return map[string]int{"expired": 1}, boom }
	conns := lambdaschedule.Connections(func(context.Context) (int, error) { ran.Add(1); return 3, nil })
	counts, err := lambdaschedule.Jobs(failing, conns)(context.Background())
	if n := ran.Load(); n != 2 {
		t.Fatalf("%d of 2 jobs ran", n)
	}
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the failing job's", err)
	}
	if counts["expired"] != 1 || counts["connections_dropped"] != 3 {
		t.Fatalf("counts %v", counts)
	}
	if _, err := lambdaschedule.Jobs(conns)(context.Background()); err != nil {
		t.Fatalf("no job failed: %v", err)
	}
}

// Jobs runs its jobs at once: each of these two waits until the other has
// started, which one-after-the-other could never satisfy.
func TestJobsRunAtOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, b := make(chan struct{}), make(chan struct{})
	waitFor := func(mine, other chan struct{}) lambdaschedule.Job {
		return func(ctx context.Context) (map[string]int, error) {
			close(mine)
			select {
			case <-other:
				return map[string]int{"met": 1}, nil
			case <-ctx.Done():
				return nil, errors.New("the other job never started")
			}
		}
	}
	counts, err := lambdaschedule.Jobs(waitFor(a, b), waitFor(b, a))(ctx)
	if err != nil || counts["met"] != 2 {
		t.Fatalf("counts %v, err %v", counts, err)
	}
}
