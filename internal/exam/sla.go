package exam

import (
	"context"
	"errors"
	"fmt"
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

// SLAIndexPK is the one partition of GSI3, the SLA-due index: every queued
// exam with an SLA step to come, from every state, sorted by the time of
// that step (slaIndexSK). A sweep then reads one partition up to now
// instead of 51 state queues. Every exam write goes through Exam.item,
// which sets or clears the keys, so the index follows each transition.
//
// Every write of an exam that joins, moves on or leaves the index is a
// write to this one index partition. DynamoDB takes about 1,000 writes a
// second per partition, far above any exam rate a clinic network reaches:
// an exam is written a handful of times while queued, so even 100 new
// exams a second would use about half of it.
const SLAIndexPK = "SLA"

// nextSLAStep is when the sweep next has something to do for e: its
// escalation while not escalated, its deadline once escalated (or if the
// deadline comes first). ok is false when e has no pending SLA step: it is
// not queued, or has no SLA.
func (e Exam) nextSLAStep() (at time.Time, ok bool) {
	if e.Status != Queued || e.SLA == nil {
		return time.Time{}, false
	}
	if e.SLA.EscalatedAt == nil && e.SLA.EscalateAt.Before(e.SLA.Deadline) {
		return e.SLA.EscalateAt, true
	}
	return e.SLA.Deadline, true
}

// slaIndexSK is e's GSI3 sort key: the time of its next SLA step, then its
// id (unique, and stable for paging). ok is false when e has none, which
// keeps e off the index.
func (e Exam) slaIndexSK() (sk string, ok bool) {
	at, ok := e.nextSLAStep()
	if !ok {
		return "", false
	}
	return store.SortableTime(at) + "#" + e.ID, true
}

// SweepReport counts what a sweep changed.
type SweepReport struct {
	Escalated     int
	Expired       int
	LeasesExpired int
}

// SweepSLA escalates queued exams past their escalation time and expires
// those past their deadline. It reads the SLA-due index (SLAIndexPK) in
// order up to now, one partition for every state. It is idempotent:
// each change is a compare-and-set of the exam as read, so a sweep running
// twice, or two sweeps at once, change each exam once, and an index entry
// that lags behind its exam (DynamoDB's indexes may) changes nothing.
// Escalating moves the exam's index entry to its deadline, expiring takes
// it off the index. Telling providers, patients and clinics follows from
// the change feed (package dispatch). An exam that fails does not stop the
// others.
func (s *Service) SweepSLA(ctx context.Context) (SweepReport, error) {
	now := s.now()
	// Sort keys are "<time>#<id>": every one due at now sorts at or
	// before this, so the query reads only what is due.
	due := store.SortableTime(now) + "#~"
	var rep SweepReport
	q := store.Query{Index: store.ByGSI3, PK: SLAIndexPK, SKAtMost: due, Limit: sweepPage}
	_, err := s.eachExam(ctx, q, func(_ store.Item, e Exam) (bool, error) {
		changed, err := s.sweepOne(ctx, e, now) // "" when it wrote nothing
		switch changed {
		case Expired:
			rep.Expired++
		case Queued:
			rep.Escalated++
		}
		return changed != "", err
	})
	return rep, err
}

// eachExam calls change for every exam that index query q finds (with the
// item as the index has it), page by page; change reports whether it
// wrote. A write that lost a race
// (fault.ErrConflict: the exam was claimed or changed meanwhile) is left
// to the next run; an item that cannot be read or changed does not stop
// the others. It returns how many exams were written and the errors,
// joined; a failed query ends it.
func (s *Service) eachExam(ctx context.Context, q store.Query, change func(store.Item, Exam) (bool, error)) (int, error) {
	n := 0
	var errs []error
	for {
		page, err := s.Store.Query(ctx, q)
		if err != nil {
			return n, errors.Join(append(errs, err)...)
		}
		for _, it := range page.Items {
			e, err := FromItem(it)
			if err != nil {
				errs = append(errs, fmt.Errorf("item %s: %w", it.PK, err))
				continue
			}
			wrote, err := change(it, e)
			switch {
			case errors.Is(err, fault.ErrConflict):
			case err != nil:
				errs = append(errs, fmt.Errorf("exam %s: %w", e.ID, err))
			case wrote:
				n++
			}
		}
		if page.Cursor == "" {
			return n, errors.Join(errs...)
		}
		q.Cursor = page.Cursor
	}
}

// sweepPage is how many due index entries a sweep reads per query: most
// sweeps find none or a few; a backlog pages on.
const sweepPage = 200

// IndexSLA puts on the SLA-due index every queued exam whose stored item
// lacks the keys Exam.item gives it: exams queued by a build from before
// the index, which the sweep would otherwise never escalate or expire. Run
// it once after upgrading a store such a build wrote (a DynamoDB table or a
// bbolt file). It reads every state's queue once and rewrites, unchanged
// but for the index keys, only the exams that are off; each rewrite is a
// compare-and-set, so it is idempotent and safe beside sweeps and other
// writers (an exam they change meanwhile gets its keys from their write).
// It returns how many exams it put on the index.
func (s *Service) IndexSLA(ctx context.Context) (int, error) {
	n := 0
	var errs []error
	for _, state := range s.Rules.States() {
		q := store.Query{Index: store.ByGSI2, PK: QueueIndexPK(state), Limit: store.MaxQueryLimit}
		indexed, err := s.eachExam(ctx, q, func(it store.Item, e Exam) (bool, error) {
			if want := e.item(e.version); want.GSI3PK == it.GSI3PK && want.GSI3SK == it.GSI3SK {
				return false, nil
			}
			return true, commit(ctx, s.Store, updateOp(e, e))
		})
		n += indexed
		if err != nil {
			errs = append(errs, fmt.Errorf("state %s: %w", state, err))
		}
	}
	return n, errors.Join(errs...)
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
