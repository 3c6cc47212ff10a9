package exam

import (
	"fmt"
	"slices"
	"time"

	"github.com/goodfaith/goodfaith/internal/fault"
)

// next lists the statuses each status may move to. Decided, cancelled and
// expired are final.
var next = map[Status][]Status{
	Draft:     {Submitted, Cancelled},
	Submitted: {Queued, Cancelled},
	Queued:    {Claimed, Cancelled, Expired},
	Claimed:   {Queued, InConsult, Decided, Cancelled},
	InConsult: {Decided, Claimed},
}

// CanMove reports whether the lifecycle allows from → to.
func CanMove(from, to Status) bool { return slices.Contains(next[from], to) }

// Final reports whether no transition leaves s.
func (s Status) Final() bool { return len(next[s]) == 0 }

// move returns a copy of e in status to, or a conflict. It is the only way
// a status changes.
func (e Exam) move(to Status, actor string, now time.Time) (Exam, error) {
	if !CanMove(e.Status, to) {
		return e, fault.Conflict("invalid_transition", fmt.Sprintf("exam is %s and cannot become %s", e.Status, to))
	}
	out := e
	out.History = append(slices.Clip(e.History), Transition{From: e.Status, To: to, At: now, Actor: actor})
	out.Status = to
	out.UpdatedAt = now
	return out, nil
}

// Submit moves a completed draft to submitted. Completeness is checked by
// the service, which knows the questionnaires and rules.
func (e Exam) Submit(actor string, now time.Time) (Exam, error) {
	out, err := e.move(Submitted, actor, now)
	if err != nil {
		return e, err
	}
	out.SubmittedAt = &now
	return out, nil
}

// Enqueue puts a submitted exam in its state's queue.
func (e Exam) Enqueue(actor string, now time.Time) (Exam, error) {
	out, err := e.move(Queued, actor, now)
	if err != nil {
		return e, err
	}
	out.QueuedAt = &now
	return out, nil
}

// Claim gives a queued exam to a provider.
func (e Exam) Claim(providerID string, now time.Time) (Exam, error) {
	if e.Status == Claimed || e.Status == InConsult {
		return e, fault.Conflict("already_claimed", "another provider holds this exam")
	}
	out, err := e.move(Claimed, providerID, now)
	if err != nil {
		return e, err
	}
	out.ProviderID = providerID
	out.ClaimedAt = &now
	return out, nil
}

// Release hands a claimed exam back to the queue; only its holder may.
func (e Exam) Release(providerID string, now time.Time) (Exam, error) {
	if e.Status != Claimed || e.ProviderID != providerID {
		return e, fault.Conflict("not_claimed", "you do not hold this exam")
	}
	out, err := e.move(Queued, providerID, now)
	if err != nil {
		return e, err
	}
	out.ProviderID = ""
	out.ClaimedAt = nil
	return out, nil
}

// Decide records the holder's decision.
func (e Exam) Decide(d Decision, now time.Time) (Exam, error) {
	if e.Status == Decided {
		return e, fault.Conflict("already_decided", "this exam is already decided")
	}
	if (e.Status == Claimed || e.Status == InConsult) && e.ProviderID != d.DecidedBy {
		return e, fault.Conflict("not_claimed", "you do not hold this exam")
	}
	out, err := e.move(Decided, d.DecidedBy, now)
	if err != nil {
		return e, err
	}
	out.Outcome = d.Outcome
	out.Decision = &d
	out.DecidedAt = &now
	return out, nil
}

// Cancel ends an exam that is not decided.
func (e Exam) Cancel(actor string, now time.Time) (Exam, error) {
	if e.Status == Decided {
		return e, fault.Conflict("already_decided", "a decided exam cannot be cancelled")
	}
	return e.move(Cancelled, actor, now)
}

// Expire ends a queued exam no provider took in time.
func (e Exam) Expire(now time.Time) (Exam, error) {
	return e.move(Expired, "system", now)
}
