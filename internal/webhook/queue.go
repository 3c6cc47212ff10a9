package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/fault"
	"github.com/goodfaith/goodfaith/internal/queue"
	"github.com/goodfaith/goodfaith/internal/store"
)

// Delivery statuses.
const (
	Pending   = "pending"
	Delivered = "delivered"
	Dead      = "dead"
)

// maxAttemptLog bounds the attempts kept on a delivery record.
const maxAttemptLog = 50

// Attempt is one try of a delivery.
type Attempt struct {
	At         time.Time `json:"at"`
	Status     int       `json:"status,omitempty"` // the receiver's HTTP status; 0 when none came
	Error      string    `json:"error,omitempty"`
	DurationMS int64     `json:"duration_ms"`
}

// Delivery is one event on its way to a clinic: the queue's record.
type Delivery struct {
	EventID   string          `json:"event_id"`
	ClinicID  string          `json:"clinic_id"`
	Type      string          `json:"type"`
	Body      json.RawMessage `json:"body"`
	Status    string          `json:"status"`
	CreatedAt time.Time       `json:"created_at"`
	// WindowStart is when the current run of retries began (creation, or
	// the last replay); retries stop a day after it.
	WindowStart   time.Time  `json:"window_start"`
	Attempts      int        `json:"attempts"` // in the current window
	TotalAttempts int        `json:"total_attempts"`
	NextAttemptAt time.Time  `json:"next_attempt_at"`
	LeaseUntil    *time.Time `json:"lease_until,omitempty"`
	DeliveredAt   *time.Time `json:"delivered_at,omitempty"`
	DeadAt        *time.Time `json:"dead_at,omitempty"`
	// JobSentAt is when Redrive last sent a job for this delivery overdue:
	// Redrive leaves it alone for another RedriveGrace, so a job stuck in a
	// backlog (or failed and invisible) is not joined by one more each run.
	// Other sends are due at NextAttemptAt and need no mark.
	JobSentAt *time.Time `json:"job_sent_at,omitempty"`
	Replays   int        `json:"replays"`
	Log       []Attempt  `json:"log"`

	version int64
}

// queuePK is the index partition of pending deliveries, by due time.
const queuePK = "WHQUEUE"

func deliveryKey(eventID string) store.Key {
	return store.Key{PK: "WHDELIVERY#" + eventID, SK: "DELIVERY"}
}

func listPK(clinicID, status string) string { return "WHDELIVERIES#" + clinicID + "#" + status }

func (d Delivery) item(version int64) store.Item {
	data, err := json.Marshal(d)
	if err != nil {
		panic("webhook: cannot encode delivery: " + err.Error()) // plain data
	}
	k := deliveryKey(d.EventID)
	it := store.Item{PK: k.PK, SK: k.SK, Version: version, Data: data,
		GSI1PK: listPK(d.ClinicID, d.Status), GSI1SK: store.SortableTime(d.CreatedAt) + "#" + d.EventID}
	if d.Status == Pending {
		it.GSI2PK, it.GSI2SK = queuePK, store.SortableTime(d.NextAttemptAt)+"#"+d.EventID
	}
	return it
}

func decodeDelivery(it store.Item) (Delivery, error) {
	var d Delivery
	if err := json.Unmarshal(it.Data, &d); err != nil {
		return Delivery{}, err
	}
	d.version = it.Version
	return d, nil
}

// ErrDeliveryNotFound: no such delivery for this clinic.
var ErrDeliveryNotFound = fault.NotFound("delivery_not_found", "no such webhook delivery")

// Queue is the durable record of deliveries, kept in the store, and the
// sender of their jobs to the message queue (see doc.go).
type Queue struct {
	Store store.Store
	Clock clock.Clock
	// Jobs carries "attempt delivery X" to the worker: SQS in AWS, the
	// in-process queue on one machine.
	Jobs queue.Sender
	// Log tells of jobs not sent after their record was written (Redrive
	// sends them later); nil: discarded.
	Log *slog.Logger
}

// scheduleRecorded sends the job of a delivery whose record is already
// written. The record is the source of truth and Redrive sends a job for
// it once overdue, so a failed send is logged (ids only, no PHI) rather
// than failing a call that did its work: a retrying client would find the
// delivery no longer dead and get a conflict.
func (q Queue) scheduleRecorded(ctx context.Context, d Delivery) {
	if err := q.schedule(ctx, d); err != nil {
		log := q.Log
		if log == nil {
			log = slog.New(slog.DiscardHandler)
		}
		log.WarnContext(ctx, "webhook job not sent; Redrive will send it", "event", d.EventID, "clinic", d.ClinicID, "error", err.Error())
	}
}

// Enqueue queues an event's delivery once: a second Enqueue of the same
// event id writes nothing; it sends the job again only while the delivery
// has never been attempted (the first send may have been lost; a duplicate
// job is harmless).
func (q Queue) Enqueue(ctx context.Context, e Event) error {
	body, err := json.Marshal(e)
	if err != nil {
		return err
	}
	now := q.Clock.Now().UTC()
	d := Delivery{EventID: e.ID, ClinicID: e.ClinicID, Type: e.Type, Body: body, Status: Pending,
		CreatedAt: now, WindowStart: now, NextAttemptAt: now, Log: []Attempt{}}
	err = q.Store.Put(ctx, d.item(1), store.IfAbsent)
	if errors.Is(err, store.ErrConditionFailed) {
		it, err := q.Store.Get(ctx, deliveryKey(e.ID))
		if err != nil {
			return err
		}
		if d, err = decodeDelivery(it); err != nil {
			return err
		}
		if d.Status != Pending || d.TotalAttempts > 0 || d.LeaseUntil != nil {
			return nil
		}
	} else if err != nil {
		return err
	}
	return q.schedule(ctx, d)
}

// Get returns one of the clinic's deliveries.
func (q Queue) Get(ctx context.Context, clinicID, eventID string) (Delivery, error) {
	it, err := q.Store.Get(ctx, deliveryKey(eventID))
	if errors.Is(err, store.ErrNotFound) {
		return Delivery{}, ErrDeliveryNotFound
	}
	if err != nil {
		return Delivery{}, err
	}
	d, err := decodeDelivery(it)
	if err != nil {
		return Delivery{}, err
	}
	if d.ClinicID != clinicID {
		return Delivery{}, ErrDeliveryNotFound
	}
	return d, nil
}

// List pages through the clinic's deliveries of one status, newest first.
func (q Queue) List(ctx context.Context, clinicID, status, cursor string, limit int) ([]Delivery, string, error) {
	switch status {
	case Pending, Delivered, Dead:
	default:
		return nil, "", fault.Invalid("invalid_status", "status", `status must be "pending", "delivered" or "dead"`)
	}
	if limit <= 0 || limit > 100 {
		limit = 50
	}
	page, err := q.Store.Query(ctx, store.Query{Index: store.ByGSI1, PK: listPK(clinicID, status), Descending: true, Limit: limit, Cursor: cursor})
	if errors.Is(err, store.ErrInvalidCursor) {
		return nil, "", fault.Invalid("invalid_cursor", "cursor", "this cursor was not issued by this listing")
	}
	if err != nil {
		return nil, "", err
	}
	out := make([]Delivery, 0, len(page.Items))
	for _, it := range page.Items {
		d, err := decodeDelivery(it)
		if err != nil {
			return nil, "", err
		}
		// The index may lag a status change: show what the record says.
		if d.Status == status {
			out = append(out, d)
		}
	}
	return out, page.Cursor, nil
}

// Replay puts a dead delivery back in the queue, due now, with a fresh day
// of retries. Replaying one that is not dead is a conflict. Only a store
// error fails it: once the record is pending, a job that cannot be sent is
// left to Redrive (see scheduleRecorded).
func (q Queue) Replay(ctx context.Context, clinicID, eventID string) (Delivery, error) {
	d, err := q.Get(ctx, clinicID, eventID)
	if err != nil {
		return Delivery{}, err
	}
	if d.Status != Dead {
		return Delivery{}, fault.Conflict("not_dead", "only a dead-lettered delivery can be replayed; this one is "+d.Status)
	}
	now := q.Clock.Now().UTC()
	next := d
	next.Status, next.WindowStart, next.NextAttemptAt, next.Attempts, next.DeadAt, next.LeaseUntil, next.JobSentAt = Pending, now, now, 0, nil, nil, nil
	next.Replays++
	err = q.Store.Put(ctx, next.item(d.version+1), store.IfVersion(d.version))
	if errors.Is(err, store.ErrConditionFailed) {
		return Delivery{}, fault.Conflict("concurrent_update", "the delivery changed while this request ran; nothing was written")
	}
	if err != nil {
		return Delivery{}, err
	}
	next.version = d.version + 1
	q.scheduleRecorded(ctx, next)
	return next, nil
}

// ReplayDead replays every dead delivery of the clinic and returns how many;
// like Replay, only a store error stops it.
func (q Queue) ReplayDead(ctx context.Context, clinicID string) (int, error) {
	n := 0
	cursor := ""
	for {
		page, err := q.Store.Query(ctx, store.Query{Index: store.ByGSI1, PK: listPK(clinicID, Dead), Cursor: cursor})
		if err != nil {
			return n, err
		}
		for _, it := range page.Items {
			d, err := decodeDelivery(it)
			if err != nil {
				return n, err
			}
			if _, err := q.Replay(ctx, clinicID, d.EventID); err != nil {
				if errors.Is(err, fault.ErrConflict) {
					continue // replayed meanwhile, or the index lagged
				}
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
