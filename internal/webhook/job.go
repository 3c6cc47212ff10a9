package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/goodfaith/goodfaith/internal/queue"
	"github.com/goodfaith/goodfaith/internal/store"
)

// job is a queue message: "attempt delivery EventID, which is due at Due".
// Due names the schedule the message was sent for; a message whose
// delivery has since moved on (attempted, rescheduled, delivered, dead) is
// stale and dropped.
type job struct {
	EventID string    `json:"event_id"`
	Due     time.Time `json:"due"`
}

// schedule sends the job of a pending delivery's next attempt, delayed
// until it is due (at most queue.MaxDelay; a job that arrives early is sent
// again for the rest).
func (q Queue) schedule(ctx context.Context, d Delivery) error {
	if q.Jobs == nil {
		return errors.New("webhook: the queue has no job sender")
	}
	body, err := json.Marshal(job{EventID: d.EventID, Due: d.NextAttemptAt.UTC()})
	if err != nil {
		return err
	}
	delay := min(max(d.NextAttemptAt.Sub(q.Clock.Now()), 0), queue.MaxDelay)
	if err := q.Jobs.Send(ctx, string(body), delay); err != nil {
		return fmt.Errorf("webhook: queue delivery %s: %w", d.EventID, err)
	}
	return nil
}

// Handle processes one job (one queue message's body): it attempts the
// delivery if the job is current and due, sends the job again if it came
// early, and drops it if stale. It reports whether a request went out. An
// error means the message should come back (after its visibility timeout);
// a body that is not a job is dropped, with a log line, as retrying it
// cannot help.
func (w *Worker) Handle(ctx context.Context, body string) (bool, error) {
	w.init()
	var j job
	if err := json.Unmarshal([]byte(body), &j); err != nil || j.EventID == "" || j.Due.IsZero() {
		w.Log.ErrorContext(ctx, "webhook job dropped: not a job", "body_bytes", len(body))
		return false, nil
	}
	it, err := w.Queue.Store.Get(ctx, deliveryKey(j.EventID))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	d, err := decodeDelivery(it)
	if err != nil {
		return false, err
	}
	// A job is current while it names the delivery's next attempt, or while
	// an attempt holds the lease (if that attempt died, the job's return
	// after its visibility timeout is what retries it).
	if d.Status != Pending || !j.Due.Equal(d.NextAttemptAt) && d.LeaseUntil == nil {
		return false, nil
	}
	now := w.Queue.Clock.Now().UTC()
	if d.NextAttemptAt.After(now) {
		return false, w.Queue.schedule(ctx, d)
	}
	return w.attempt(ctx, d, now)
}

// Drain handles every job visible on rx now, Concurrency at a time, deleting
// each one handled; it returns how many requests went out. It is the
// consumer of one machine; in AWS the SQS event source calls Handle.
func (w *Worker) Drain(ctx context.Context, rx queue.Receiver) (int, error) {
	w.init()
	total := 0
	var errs []error
	for ctx.Err() == nil {
		msgs, err := rx.Receive(ctx, queue.MaxBatch, w.lease())
		if err != nil {
			return total, err
		}
		if len(msgs) == 0 {
			break
		}
		sent, err := w.handleAll(ctx, rx, msgs)
		total += sent
		if err != nil {
			errs = append(errs, err)
			break // what failed comes back after its visibility timeout
		}
	}
	return total, errors.Join(errs...)
}

func (w *Worker) handleAll(ctx context.Context, rx queue.Receiver, msgs []queue.Message) (int, error) {
	results := w.HandleBatch(ctx, msgs)
	sent := 0
	var errs []error
	for i, r := range results {
		if r.Sent {
			sent++
		}
		if r.Err != nil {
			errs = append(errs, r.Err)
			continue
		}
		if err := rx.Delete(ctx, msgs[i].Receipt); err != nil {
			errs = append(errs, err)
		}
	}
	return sent, errors.Join(errs...)
}

// Result is what handling one message did.
type Result struct {
	Sent bool
	Err  error
}

// HandleBatch handles messages concurrently (Concurrency at a time, so one
// slow receiver holds one slot) and returns each one's result, in order.
func (w *Worker) HandleBatch(ctx context.Context, msgs []queue.Message) []Result {
	w.init()
	results := make([]Result, len(msgs))
	slots := make(chan struct{}, w.Concurrency)
	done := make(chan struct{})
	for i, m := range msgs {
		slots <- struct{}{}
		go func() {
			defer func() { <-slots; done <- struct{}{} }()
			sent, err := w.Handle(ctx, m.Body)
			results[i] = Result{Sent: sent, Err: err}
		}()
	}
	for range msgs {
		<-done
	}
	return results
}

// JobVisibilityTimeout is how long a received job stays invisible in AWS:
// the WebhookDeliveryQueue's VisibilityTimeout in template.yaml, which
// functions/template_test.go holds to this constant. A job whose handling
// failed comes back by itself after it.
const JobVisibilityTimeout = 180 * time.Second

// RedriveGrace is how overdue a pending delivery must be (and how long
// after Redrive last sent its job) before Redrive sends a job again: longer
// than a failed job takes to come back by itself (JobVisibilityTimeout)
// plus an attempt's lease with the default timeout, so Redrive does not
// race the queue's own retry.
const RedriveGrace = JobVisibilityTimeout + defaultAttemptTimeout + leaseMargin

// Redrive queues a job for every pending delivery overdue by more than
// grace, as the store's index shows them: deliveries whose job was lost
// (the process died between the store write and the send, the in-process
// queue was restarted, an attempt died holding its lease). A job that is
// not lost meanwhile makes a duplicate, which the lease makes harmless.
// It returns how many it queued.
func (w *Worker) Redrive(ctx context.Context, grace time.Duration) (int, error) {
	w.init()
	n := 0
	now := w.Queue.Clock.Now().UTC()
	cut := now.Add(-grace)
	cursor := ""
	for {
		page, err := w.Queue.Store.Query(ctx, store.Query{Index: store.ByGSI2, PK: queuePK, Limit: w.Batch, Cursor: cursor})
		if err != nil {
			return n, err
		}
		for _, it := range page.Items {
			if it.GSI2SK > store.SortableTime(cut)+"#~" {
				return n, nil
			}
			full, err := w.Queue.Store.Get(ctx, it.Key())
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return n, err
			}
			d, err := decodeDelivery(full)
			if err != nil {
				return n, err
			}
			if d.Status != Pending || d.NextAttemptAt.After(cut) {
				continue // the index lagged
			}
			if d.JobSentAt != nil && d.JobSentAt.After(cut) {
				continue // its job was sent within the grace: still on its way
			}
			// Marked first: a mark without a job only waits one more grace;
			// a job without a mark would be joined by another each run.
			sent := now
			marked := d
			marked.JobSentAt = &sent
			err = w.Queue.Store.Put(ctx, marked.item(d.version+1), store.IfVersion(d.version))
			if errors.Is(err, store.ErrConditionFailed) {
				continue // an attempt or a replay moved it meanwhile
			}
			if err != nil {
				return n, err
			}
			if err := w.Queue.schedule(ctx, marked); err != nil {
				return n, err
			}
			n++
		}
		if page.Cursor == "" {
			return n, nil
		}
		cursor = page.Cursor
	}
}
