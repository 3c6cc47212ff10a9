package exam

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/goodfaith/goodfaith/internal/fault"
	"github.com/goodfaith/goodfaith/internal/store"
)

// SLA is a queued exam's promise: by EscalateAt a provider should have
// claimed it (otherwise every eligible provider is told, online or not),
// and by Deadline it expires (status expired, never billed; the patient
// and the clinic are told). Both run from submission, not from the latest
// return to the queue, so a released exam keeps its place.
type SLA struct {
	EscalateAt  time.Time  `json:"escalate_at"`
	Deadline    time.Time  `json:"deadline"`
	EscalatedAt *time.Time `json:"escalated_at,omitempty"`
}

// QueuePolicy holds the queue's timings.
type QueuePolicy struct {
	// Escalate and Expire are the SLA windows per modality, from
	// submission.
	Escalate map[string]time.Duration
	Expire   map[string]time.Duration
	// Lease is how long a claim lasts without renewal (the holder's console
	// renews it by claiming again).
	Lease time.Duration
	// ClaimLimit is how many exams one provider may hold at once.
	ClaimLimit int
}

// DefaultQueuePolicy: a patient waiting for a live video consult is
// escalated after 5 minutes and released after 30; an asynchronous exam
// after 1 hour and 24 hours. A claim lasts 10 minutes unless renewed; a
// provider holds at most 3 exams.
var DefaultQueuePolicy = QueuePolicy{
	Escalate:   map[string]time.Duration{"video": 5 * time.Minute, "async": time.Hour},
	Expire:     map[string]time.Duration{"video": 30 * time.Minute, "async": 24 * time.Hour},
	Lease:      10 * time.Minute,
	ClaimLimit: 3,
}

// Queueing is the service's policy (the default when none is set).
func (s *Service) Queueing() QueuePolicy {
	if s.Policy == nil {
		return DefaultQueuePolicy
	}
	return *s.Policy
}

// newSLA is the SLA of an exam queued now.
func (p QueuePolicy) newSLA(modality string, submitted time.Time) *SLA {
	esc, ok := p.Escalate[modality]
	if !ok {
		esc = p.Escalate["video"] // the stricter window for anything unknown
	}
	exp, ok := p.Expire[modality]
	if !ok {
		exp = p.Expire["video"]
	}
	return &SLA{EscalateAt: submitted.Add(esc), Deadline: submitted.Add(exp)}
}

// queueSortKey orders a state's queue: the exam nearest its escalation
// first (SLA priority), which within one modality is the oldest first.
func (e Exam) queueSortKey() string {
	at := *e.QueuedAt
	if e.SLA != nil {
		at = e.SLA.EscalateAt
	}
	return store.SortableTime(at) + "#" + e.ID
}

// SweepReport counts what a sweep changed.
type SweepReport struct {
	Escalated     int
	Expired       int
	LeasesExpired int
}

// SweepSLA escalates queued exams past their escalation time and expires
// those past their deadline, in every state's queue. It is idempotent: each
// change is a compare-and-set of the exam, so a sweep running twice, or two
// sweeps at once, change each exam once. Telling providers, patients and
// clinics follows from the change feed (package dispatch).
func (s *Service) SweepSLA(ctx context.Context) (SweepReport, error) {
	now := s.now()
	states := s.Rules.States()
	// One index query per state (51 of them): run a few at once, so that a
	// sweep costs a few round trips to DynamoDB rather than 51 in a row. A
	// state whose sweep fails does not stop the others.
	reports := make([]SweepReport, len(states))
	errs := make([]error, len(states))
	slots := make(chan struct{}, sweepParallelism)
	var wg sync.WaitGroup
	for i, state := range states {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			reports[i], errs[i] = s.sweepState(ctx, state, now)
		}()
	}
	wg.Wait()
	var rep SweepReport
	for _, r := range reports {
		rep.Expired += r.Expired
		rep.Escalated += r.Escalated
	}
	return rep, errors.Join(errs...)
}

// sweepParallelism is how many states' queues a sweep reads at once.
const sweepParallelism = 8

// sweepState expires or escalates the due exams of one state's queue.
func (s *Service) sweepState(ctx context.Context, state string, now time.Time) (SweepReport, error) {
	var rep SweepReport
	var errs []error
	q := store.Query{Index: store.ByGSI2, PK: QueueIndexPK(state), Limit: 200}
	for {
		page, err := s.Store.Query(ctx, q)
		if err != nil {
			return rep, fmt.Errorf("state %s: %w", state, err)
		}
		for _, it := range page.Items {
			if it.GSI2SK > store.SortableTime(now)+"#~" {
				return rep, errors.Join(errs...) // sorted by escalation time: the rest are not due
			}
			e, err := FromItem(it)
			if err != nil {
				return rep, err
			}
			changed, err := s.sweepOne(ctx, e, now)
			switch {
			case errors.Is(err, fault.ErrConflict):
				// Claimed or changed meanwhile: the next sweep looks again.
			case err != nil:
				errs = append(errs, fmt.Errorf("exam %s: %w", e.ID, err))
			case changed == Expired:
				rep.Expired++
			case changed == Queued:
				rep.Escalated++
			}
		}
		if page.Cursor == "" {
			return rep, errors.Join(errs...)
		}
		q.Cursor = page.Cursor
	}
}

// sweepOne expires or escalates e as of now, returning the status it
// wrote (empty when nothing was due).
func (s *Service) sweepOne(ctx context.Context, e Exam, now time.Time) (Status, error) {
	if e.Status != Queued || e.SLA == nil {
		return "", nil
	}
	var next Exam
	var action string
	switch {
	case !now.Before(e.SLA.Deadline):
		var err error
		if next, err = e.Expire(now); err != nil {
			return "", err
		}
		action = "exam.expire"
	case !now.Before(e.SLA.EscalateAt) && e.SLA.EscalatedAt == nil:
		next = e
		sla := *e.SLA
		sla.EscalatedAt = &now
		next.SLA = &sla
		next.UpdatedAt = now
		action = "exam.escalate"
	default:
		return "", nil
	}
	rec := s.audit(RoleSystem, RoleSystem, action, e.ID, now)
	if err := commit(ctx, s.Store, updateOp(e, next), rec.Op()); err != nil {
		return "", err
	}
	return next.Status, nil
}

// Escalated reports whether the change from old to next escalated an
// exam (for the dispatcher).
func Escalated(old, next Exam) bool {
	return next.Status == Queued && next.SLA != nil && next.SLA.EscalatedAt != nil &&
		(old.SLA == nil || old.SLA.EscalatedAt == nil)
}
