package webhook_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/exam"
	"github.com/goodfaith/goodfaith/internal/queue"
	"github.com/goodfaith/goodfaith/internal/store"
	"github.com/goodfaith/goodfaith/internal/store/boltstore"
	"github.com/goodfaith/goodfaith/internal/webhook"
)

// receiver is a real HTTP server on loopback that records what it gets and
// answers as behave says for the n-th request (1-based).
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []received
	behave func(n int, w http.ResponseWriter, r *http.Request)
}

type received struct {
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T, behave func(n int, w http.ResponseWriter, r *http.Request)) *receiver {
	rc := &receiver{behave: behave}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, received{header: r.Header.Clone(), body: body})
		n := len(rc.got)
		rc.mu.Unlock()
		rc.behave(n, w, r)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

type rig struct {
	st        store.Store
	clk       *clock.Fake
	endpoints webhook.Endpoints
	queue     webhook.Queue
	jobs      *queue.Memory
	events    webhook.Events
	worker    *webhook.Worker
}

func newRig(t *testing.T) *rig {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := clock.NewFake(time.Date(2025, 3, 3, 15, 0, 0, 0, time.UTC))
	r := &rig{st: st, clk: clk}
	r.endpoints = webhook.Endpoints{Store: st, Clock: clk, AllowLoopback: true}
	r.jobs = &queue.Memory{Clock: clk}
	r.queue = webhook.Queue{Store: st, Clock: clk, Jobs: r.jobs}
	r.events = webhook.Events{Queue: r.queue, Endpoints: r.endpoints}
	r.worker = &webhook.Worker{Queue: r.queue, Endpoints: r.endpoints, Timeout: 2 * time.Second, Jitter: func() float64 { return 0.5 }}
	return r
}

// decide feeds the events consumer the change deciding an exam of clinicID.
func (r *rig) decide(t *testing.T, examID, clinicID string, outcome exam.Outcome) {
	t.Helper()
	now := r.clk.Now()
	sub := now.Add(-time.Hour)
	before := exam.Exam{ID: examID, ClinicID: clinicID, Status: exam.Claimed, State: "TX", Treatments: []string{"neurotoxin"}, Modality: "async", SubmittedAt: &sub, History: []exam.Transition{}}
	after := before
	after.Status, after.Outcome, after.DecidedAt, after.UpdatedAt = exam.Decided, outcome, &now, now
	after.Decision = &exam.Decision{Outcome: outcome, Reason: "needs labs first", DecidedBy: "prov_1"}
	oi, ni := exam.ToItem(before, 3), exam.ToItem(after, 4)
	if err := r.events.Handle(context.Background(), []store.Change{{ID: "chg-" + examID, Key: ni.Key(), Old: &oi, New: &ni, At: now}}); err != nil {
		t.Fatal(err)
	}
}

// runOnce handles every job visible now on the in-process queue and
// returns how many requests went out.
func (r *rig) runOnce(t *testing.T) int {
	t.Helper()
	n, err := r.worker.Drain(context.Background(), r.jobs)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (r *rig) only(t *testing.T, clinicID, status string) webhook.Delivery {
	t.Helper()
	ds, _, err := r.queue.List(context.Background(), clinicID, status, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 {
		t.Fatalf("%d %s deliveries, want 1", len(ds), status)
	}
	return ds[0]
}

func TestReceiverFailingNTimesGetsTheEventOnScheduleSigned(t *testing.T) {
	const failures = 4
	r := newRig(t)
	rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n <= failures {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	ep, err := r.endpoints.Set(context.Background(), "clinic_a", rc.URL+"/hooks", false)
	if err != nil {
		t.Fatal(err)
	}
	r.decide(t, "exam_1", "clinic_a", exam.Deferred)
	r.decide(t, "exam_1", "clinic_a", exam.Deferred) // a redelivered change queues nothing new

	var sentAt []time.Time
	for i := 1; i <= failures+1; i++ {
		if n := r.runOnce(t); n != 1 {
			t.Fatalf("round %d attempted %d deliveries, want 1", i, n)
		}
		sentAt = append(sentAt, r.clk.Now())
		if i > failures {
			break
		}
		d := r.only(t, "clinic_a", webhook.Pending)
		// Jitter 0.5 puts the retry at ¾ of the nominal delay, in whole
		// seconds (rounded up).
		want := r.clk.Now().Add(queue.CeilSecond(webhook.DefaultBackoff.Nominal(i) * 3 / 4))
		if !d.NextAttemptAt.Equal(want) || d.Attempts != i || d.Log[i-1].Status != 503 {
			t.Fatalf("after failure %d: next %s (want %s), attempts %d, log %+v", i, d.NextAttemptAt, want, d.Attempts, d.Log)
		}
		// Not a moment early.
		r.clk.Set(want.Add(-time.Second))
		if n := r.runOnce(t); n != 0 {
			t.Fatalf("retry %d came %s early", i, time.Second)
		}
		r.clk.Set(want)
	}
	d := r.only(t, "clinic_a", webhook.Delivered)
	if d.TotalAttempts != failures+1 || d.DeliveredAt == nil {
		t.Fatalf("delivered = %+v", d)
	}
	reqs := rc.requests()
	if len(reqs) != failures+1 {
		t.Fatalf("receiver got %d requests, want %d", len(reqs), failures+1)
	}
	for i, q := range reqs {
		if err := webhook.Verify(ep.Secret, q.header.Get(webhook.SignatureHeader), q.body, sentAt[i]); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if q.header.Get(webhook.EventIDHeader) != d.EventID || string(q.body) != string(reqs[0].body) {
			t.Fatalf("request %d is not the same event", i)
		}
	}
	// The body says what happened, with the deferral's reason.
	if string(reqs[0].body) == "" || !contains(reqs[0].body, `"type":"exam.decided"`) || !contains(reqs[0].body, `"outcome":"deferred"`) || !contains(reqs[0].body, `"reason":"needs labs first"`) {
		t.Fatalf("body = %s", reqs[0].body)
	}
}

func TestReceiverFailingForeverIsDeadLetteredAfterADayAndReplayed(t *testing.T) {
	r := newRig(t)
	var healthy atomic.Bool
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		if healthy.Load() {
			w.WriteHeader(http.StatusOK)
			return
		}
		w.WriteHeader(http.StatusInternalServerError)
	})
	if _, err := r.endpoints.Set(context.Background(), "clinic_a", rc.URL, false); err != nil {
		t.Fatal(err)
	}
	start := r.clk.Now()
	r.decide(t, "exam_1", "clinic_a", exam.Approved)
	r.decide(t, "exam_2", "clinic_a", exam.Denied)

	// The schedule this jitter gives, computed independently.
	var wantTimes []time.Time
	at := start
	for n := 1; ; n++ {
		wantTimes = append(wantTimes, at)
		at = at.Add(queue.CeilSecond(webhook.DefaultBackoff.Nominal(n) * 3 / 4))
		if at.After(start.Add(24 * time.Hour)) {
			break
		}
	}
	for _, when := range wantTimes {
		r.clk.Set(when)
		if n := r.runOnce(t); n != 2 {
			t.Fatalf("at %s: %d attempts, want 2", when.Sub(start), n)
		}
	}
	dead, _, err := r.queue.List(context.Background(), "clinic_a", webhook.Dead, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != 2 {
		t.Fatalf("%d dead letters, want 2", len(dead))
	}
	if got := len(rc.requests()); got != 2*len(wantTimes) {
		t.Fatalf("receiver got %d requests, want %d", got, 2*len(wantTimes))
	}
	// Dead means no more attempts, however long we wait.
	r.clk.Advance(48 * time.Hour)
	if n := r.runOnce(t); n != 0 {
		t.Fatalf("a dead delivery was attempted")
	}

	// The receiver is fixed; the clinic replays one, then the rest.
	healthy.Store(true)
	if _, err := r.queue.Replay(context.Background(), "clinic_b", dead[0].EventID); err == nil {
		t.Fatal("another clinic replayed this clinic's delivery")
	}
	if _, err := r.queue.Replay(context.Background(), "clinic_a", dead[0].EventID); err != nil {
		t.Fatal(err)
	}
	if _, err := r.queue.Replay(context.Background(), "clinic_a", dead[0].EventID); err == nil {
		t.Fatal("a pending delivery was replayed")
	}
	if n, err := r.queue.ReplayDead(context.Background(), "clinic_a"); err != nil || n != 1 {
		t.Fatalf("ReplayDead = %d, %v", n, err)
	}
	if n := r.runOnce(t); n != 2 {
		t.Fatalf("replayed deliveries attempted: %d", n)
	}
	delivered, _, _ := r.queue.List(context.Background(), "clinic_a", webhook.Delivered, "", 100)
	if len(delivered) != 2 {
		t.Fatalf("%d delivered after replay, want 2: an event was lost", len(delivered))
	}
}

func TestSlowReceiverTimesOutWithoutHoldingOthers(t *testing.T) {
	r := newRig(t)
	r.worker.Timeout = 300 * time.Millisecond
	release := make(chan struct{})
	slow := newReceiver(t, func(n int, w http.ResponseWriter, req *http.Request) {
		if n == 1 {
			select { // far slower than the timeout
			case <-release:
			case <-req.Context().Done():
			}
		}
		w.WriteHeader(http.StatusOK)
	})
	defer close(release)
	fast := newReceiver(t, func(int, http.ResponseWriter, *http.Request) {})
	ctx := context.Background()
	if _, err := r.endpoints.Set(ctx, "clinic_slow", slow.URL, false); err != nil {
		t.Fatal(err)
	}
	if _, err := r.endpoints.Set(ctx, "clinic_fast", fast.URL, false); err != nil {
		t.Fatal(err)
	}
	r.decide(t, "exam_s", "clinic_slow", exam.Approved)
	r.decide(t, "exam_f", "clinic_fast", exam.Approved)
	began := time.Now()
	if n := r.runOnce(t); n != 2 {
		t.Fatalf("attempted %d", n)
	}
	if took := time.Since(began); took > 5*time.Second {
		t.Fatalf("a round took %s with a 300ms timeout", took)
	}
	r.only(t, "clinic_fast", webhook.Delivered)
	d := r.only(t, "clinic_slow", webhook.Pending)
	if d.Log[0].Error != "the receiver did not answer in time" {
		t.Fatalf("slow attempt = %+v", d.Log[0])
	}
	r.clk.Set(d.NextAttemptAt)
	r.runOnce(t)
	r.only(t, "clinic_slow", webhook.Delivered)
}

// Duplicate jobs (a redelivered change queues the job again while the
// delivery was never attempted; SQS delivers at least once) handled by two
// workers at the same time still send each event once: the lease's
// conditional write lets one through.
func TestDuplicateJobsOnConcurrentWorkersSendEachEventOnce(t *testing.T) {
	r := newRig(t)
	rc := newReceiver(t, func(int, http.ResponseWriter, *http.Request) {})
	if _, err := r.endpoints.Set(context.Background(), "clinic_a", rc.URL, false); err != nil {
		t.Fatal(err)
	}
	// Queued as a..j, a..j, k..t, k..t: the first two batches of ten are
	// the same ten jobs.
	for _, from := range []int{0, 10} {
		for range 2 {
			for i := from; i < from+10; i++ {
				r.decide(t, "exam_"+string(rune('a'+i)), "clinic_a", exam.Approved)
			}
		}
	}
	if r.jobs.Len() != 40 {
		t.Fatalf("%d jobs queued, want 40 (each twice)", r.jobs.Len())
	}
	// Each worker takes one batch, so both copies of a job are in flight at
	// once, on different workers.
	first, err := r.jobs.Receive(context.Background(), 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	second, err := r.jobs.Receive(context.Background(), 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	other := &webhook.Worker{Queue: r.queue, Endpoints: r.endpoints}
	var wg sync.WaitGroup
	for i, w := range []*webhook.Worker{r.worker, other} {
		batch := [][]queue.Message{first, second}[i]
		wg.Go(func() {
			for _, res := range w.HandleBatch(context.Background(), batch) {
				if res.Err != nil {
					t.Error(res.Err)
				}
			}
		})
	}
	wg.Wait()
	// The rest, and anything the first round left, from both workers.
	for _, w := range []*webhook.Worker{r.worker, other} {
		wg.Go(func() {
			if _, err := w.Drain(context.Background(), r.jobs); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	ids := map[string]int{}
	for _, q := range rc.requests() {
		ids[q.header.Get(webhook.EventIDHeader)]++
	}
	if len(ids) != 20 {
		t.Fatalf("%d events delivered, want 20", len(ids))
	}
	for id, n := range ids {
		if n != 1 {
			t.Fatalf("event %s sent %d times", id, n)
		}
	}
}

func contains(b []byte, s string) bool { return strings.Contains(string(b), s) }

// A retry due in more than queue.MaxDelay is carried by jobs sent again for
// the rest of the wait, and goes out when due, not before and not later.
func TestRetryLongerThanTheQueuesDelayIsCarriedInSteps(t *testing.T) {
	r := newRig(t)
	r.worker.Backoff = webhook.Backoff{Base: 40 * time.Minute, Max: time.Hour, Window: 24 * time.Hour}
	rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			w.WriteHeader(http.StatusBadGateway)
		}
	})
	if _, err := r.endpoints.Set(context.Background(), "clinic_a", rc.URL, false); err != nil {
		t.Fatal(err)
	}
	r.decide(t, "exam_1", "clinic_a", exam.Approved)
	if n := r.runOnce(t); n != 1 {
		t.Fatalf("first attempt: %d sent", n)
	}
	due := r.only(t, "clinic_a", webhook.Pending).NextAttemptAt
	if want := r.clk.Now().Add(30 * time.Minute); !due.Equal(want) { // ¾ of 40 minutes
		t.Fatalf("next attempt at %s, want %s", due, want)
	}
	// The job comes back at 15 minutes, early: it is sent again, once.
	r.clk.Advance(15 * time.Minute)
	if n := r.runOnce(t); n != 0 || r.jobs.Len() != 1 || len(rc.requests()) != 1 {
		t.Fatalf("at 15 min: %d sent, %d jobs queued, %d requests; want the job re-sent only", n, r.jobs.Len(), len(rc.requests()))
	}
	r.clk.Set(due.Add(-time.Second))
	if n := r.runOnce(t); n != 0 {
		t.Fatal("the retry went out early")
	}
	r.clk.Set(due)
	if n := r.runOnce(t); n != 1 {
		t.Fatalf("at the due time: %d sent, want 1", n)
	}
	r.only(t, "clinic_a", webhook.Delivered)
	if r.jobs.Len() != 0 {
		t.Fatalf("%d jobs left after delivery", r.jobs.Len())
	}
}

// An attempt that dies holding its lease (its job deleted, nothing
// recorded) is not lost: Redrive finds the delivery overdue once the lease
// and the grace have passed, and the job takes the lease over.
func TestAttemptThatDiedHoldingItsLeaseIsRedriven(t *testing.T) {
	r := newRig(t)
	rc := newReceiver(t, func(int, http.ResponseWriter, *http.Request) {})
	if _, err := r.endpoints.Set(context.Background(), "clinic_a", rc.URL, false); err != nil {
		t.Fatal(err)
	}
	r.decide(t, "exam_1", "clinic_a", exam.Approved)
	d := r.only(t, "clinic_a", webhook.Pending)
	// The dying attempt: it took the lease (as Handle does, conditionally)
	// and its job was deleted.
	msgs, err := r.jobs.Receive(context.Background(), 10, time.Minute)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("receive: %d, %v", len(msgs), err)
	}
	if err := r.jobs.Delete(context.Background(), msgs[0].Receipt); err != nil {
		t.Fatal(err)
	}
	takeLease(t, r, d.EventID, r.clk.Now().Add(time.Minute))

	if n, err := r.worker.Redrive(context.Background(), webhook.RedriveGrace); err != nil || n != 0 {
		t.Fatalf("while leased: redriven %d, %v", n, err)
	}
	r.clk.Advance(time.Minute + webhook.RedriveGrace + time.Second)
	if n, err := r.worker.Redrive(context.Background(), webhook.RedriveGrace); err != nil || n != 1 {
		t.Fatalf("after the lease and the grace: redriven %d, %v; want 1", n, err)
	}
	if n := r.runOnce(t); n != 1 {
		t.Fatalf("redriven job: %d sent", n)
	}
	r.only(t, "clinic_a", webhook.Delivered)
}

// takeLease writes the lease an attempt takes, as a crashed worker left it.
func takeLease(t *testing.T, r *rig, eventID string, until time.Time) {
	t.Helper()
	k := store.Key{PK: "WHDELIVERY#" + eventID, SK: "DELIVERY"}
	it, err := r.st.Get(context.Background(), k)
	if err != nil {
		t.Fatal(err)
	}
	var rec map[string]any
	if err := json.Unmarshal(it.Data, &rec); err != nil {
		t.Fatal(err)
	}
	rec["next_attempt_at"], rec["lease_until"] = until, until
	it.Data, _ = json.Marshal(rec)
	it.GSI2SK = store.SortableTime(until) + "#" + eventID
	v := it.Version
	it.Version++
	if err := r.st.Put(context.Background(), it, store.IfVersion(v)); err != nil {
		t.Fatal(err)
	}
}
