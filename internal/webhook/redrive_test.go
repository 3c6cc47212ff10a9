package webhook_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goodfaith/goodfaith/internal/exam"
	"github.com/goodfaith/goodfaith/internal/queue"
	"github.com/goodfaith/goodfaith/internal/webhook"
)

// flakySender is a job queue whose Send fails while failing is set, else
// passes to the in-process queue.
type flakySender struct {
	next    queue.Sender
	failing atomic.Bool
	refused atomic.Int32
}

var errQueueDown = errors.New("queue unavailable")

func (f *flakySender) Send(ctx context.Context, body string, delay time.Duration) error {
	if f.failing.Load() {
		f.refused.Add(1)
		return errQueueDown
	}
	return f.next.Send(ctx, body, delay)
}

// deadLetters makes n deliveries of clinic_a dead by failing them for a day.
func deadLetters(t *testing.T, r *rig, n int) []webhook.Delivery {
	t.Helper()
	r.worker.Backoff = webhook.Backoff{Base: time.Minute, Max: time.Minute, Window: time.Minute}
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) })
	if _, err := r.endpoints.Set(context.Background(), "clinic_a", rc.URL, false); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		r.decide(t, "exam_"+string(rune('a'+i)), "clinic_a", exam.Approved)
	}
	for r.runOnce(t) > 0 {
		r.clk.Advance(2 * time.Minute)
	}
	dead, _, err := r.queue.List(context.Background(), "clinic_a", webhook.Dead, "", 100)
	if err != nil || len(dead) != n {
		t.Fatalf("%d dead letters, %v; want %d", len(dead), err, n)
	}
	return dead
}

// A replay whose job cannot be sent still succeeds: the record is pending,
// so a retrying client would get a conflict, and Redrive sends the job once
// overdue. ReplayDead goes through every dead letter and counts them all.
func TestReplayWhoseJobSendFailsSucceedsAndIsRedriven(t *testing.T) {
	r := newRig(t)
	dead := deadLetters(t, r, 3)
	flaky := &flakySender{next: r.jobs}
	r.queue.Jobs = flaky
	r.worker.Queue = r.queue
	flaky.failing.Store(true)

	d, err := r.queue.Replay(context.Background(), "clinic_a", dead[0].EventID)
	if err != nil {
		t.Fatalf("Replay with the job queue down: %v; want success (the record is written)", err)
	}
	if d.Status != webhook.Pending {
		t.Fatalf("replayed status %q", d.Status)
	}
	if n, err := r.queue.ReplayDead(context.Background(), "clinic_a"); err != nil || n != 2 {
		t.Fatalf("ReplayDead with the job queue down = %d, %v; want 2, nil", n, err)
	}
	if got := flaky.refused.Load(); got != 3 {
		t.Fatalf("%d sends tried, want 3 (one per replay)", got)
	}
	if r.jobs.Len() != 0 {
		t.Fatalf("%d jobs queued while the queue was down", r.jobs.Len())
	}
	pending, _, err := r.queue.List(context.Background(), "clinic_a", webhook.Pending, "", 100)
	if err != nil || len(pending) != 3 {
		t.Fatalf("%d pending after the replays, %v; want 3", len(pending), err)
	}
	// A client retrying the replay is told it is no longer dead.
	if _, err := r.queue.Replay(context.Background(), "clinic_a", dead[0].EventID); err == nil {
		t.Fatal("a pending delivery was replayed again")
	}

	flaky.failing.Store(false)
	r.clk.Advance(webhook.RedriveGrace + time.Second)
	if n, err := r.worker.Redrive(context.Background(), webhook.RedriveGrace); err != nil || n != 3 {
		t.Fatalf("Redrive = %d, %v; want the 3 unsent jobs", n, err)
	}
	if r.jobs.Len() != 3 {
		t.Fatalf("%d jobs queued by Redrive, want 3", r.jobs.Len())
	}
}

// Redrive sends one job for an overdue delivery and none again until the
// grace has passed since: a job waiting in a backlog (or invisible after a
// failure) is not joined by another each run.
func TestRedriveSendsOneJobPerGrace(t *testing.T) {
	r := newRig(t)
	if _, err := r.endpoints.Set(context.Background(), "clinic_a", newReceiver(t, func(int, http.ResponseWriter, *http.Request) {}).URL, false); err != nil {
		t.Fatal(err)
	}
	r.decide(t, "exam_1", "clinic_a", exam.Approved)
	// The enqueued job is lost.
	msgs, err := r.jobs.Receive(context.Background(), 10, time.Minute)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("receive: %d, %v", len(msgs), err)
	}
	if err := r.jobs.Delete(context.Background(), msgs[0].Receipt); err != nil {
		t.Fatal(err)
	}
	if n, err := r.worker.Redrive(context.Background(), webhook.RedriveGrace); err != nil || n != 0 {
		t.Fatalf("within the grace: redriven %d, %v; want 0", n, err)
	}
	r.clk.Advance(webhook.RedriveGrace + time.Second)
	if n, err := r.worker.Redrive(context.Background(), webhook.RedriveGrace); err != nil || n != 1 {
		t.Fatalf("overdue: redriven %d, %v; want 1", n, err)
	}
	if d := r.only(t, "clinic_a", webhook.Pending); d.JobSentAt == nil || !d.JobSentAt.Equal(r.clk.Now()) {
		t.Fatalf("job_sent_at = %v, want %s", d.JobSentAt, r.clk.Now())
	}
	// Right after, and every minute within the grace: nothing more.
	for range int(webhook.RedriveGrace / time.Minute) {
		if n, err := r.worker.Redrive(context.Background(), webhook.RedriveGrace); err != nil || n != 0 {
			t.Fatalf("%s after the job was sent: redriven %d, %v; want 0", r.clk.Now().Sub(*r.only(t, "clinic_a", webhook.Pending).JobSentAt), n, err)
		}
		r.clk.Advance(time.Minute)
	}
	if r.jobs.Len() != 1 {
		t.Fatalf("%d jobs queued, want 1", r.jobs.Len())
	}
	// The job never came (lost again): after the grace, one more.
	r.clk.Set(r.only(t, "clinic_a", webhook.Pending).JobSentAt.Add(webhook.RedriveGrace + time.Second))
	if n, err := r.worker.Redrive(context.Background(), webhook.RedriveGrace); err != nil || n != 1 {
		t.Fatalf("after the grace: redriven %d, %v; want 1", n, err)
	}
	if n := r.runOnce(t); n != 1 {
		t.Fatalf("redriven jobs sent %d requests, want 1 (the duplicate dropped)", n)
	}
	r.only(t, "clinic_a", webhook.Delivered)
}

// The grace outlasts a failed job's return by itself (the queue's
// visibility timeout) plus an attempt's lease.
func TestRedriveGraceOutlastsVisibilityAndLease(t *testing.T) {
	if webhook.RedriveGrace < webhook.JobVisibilityTimeout+10*time.Second+time.Minute {
		t.Fatalf("RedriveGrace %s is shorter than the visibility timeout %s plus the default lease", webhook.RedriveGrace, webhook.JobVisibilityTimeout)
	}
}
