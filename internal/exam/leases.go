package exam

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/goodfaith/goodfaith/internal/fault"
	"github.com/goodfaith/goodfaith/internal/parallel"
	"github.com/goodfaith/goodfaith/internal/store"
)

// Lease is a claim's hold on an exam: it lasts until Until unless the
// holder's console renews it (every presence heartbeat does); a lease that runs out puts the
// exam back in the queue, so a provider who goes silent never strands a
// patient.
type Lease struct {
	Until time.Time `json:"until"`
}

// ClaimsIndexPK lists claimed exams on GSI2 by lease expiry, for the lease
// sweep. An exam is in the claims index only while claimed, and in its
// state's queue only while queued.
const ClaimsIndexPK = "CLAIMS"

// claimSlotsKey is the record of the exams a provider holds. Claims write
// it by compare-and-set in the same transaction as the exam, which bounds
// a provider's claims atomically even under concurrent claims.
func claimSlotsKey(providerID string) store.Key {
	return store.Key{PK: "PROVIDER#" + providerID, SK: "CLAIMS"}
}

type claimSlots struct {
	ExamIDs []string `json:"exam_ids"`
	version int64
}

func (s *Service) loadSlots(ctx context.Context, providerID string) (claimSlots, error) {
	it, err := s.Store.Get(ctx, claimSlotsKey(providerID))
	if errors.Is(err, store.ErrNotFound) {
		return claimSlots{}, nil
	}
	if err != nil {
		return claimSlots{}, err
	}
	var cs claimSlots
	if err := json.Unmarshal(it.Data, &cs); err != nil {
		return claimSlots{}, err
	}
	cs.version = it.Version
	return cs, nil
}

// held keeps the slots whose exam the provider still holds: a release,
// a decision or a lease expiry frees a slot without touching this record,
// so it is pruned here, when it matters.
func (s *Service) held(ctx context.Context, providerID string, cs claimSlots) ([]string, error) {
	es, err := s.heldExams(ctx, providerID, cs)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out, nil
}

// heldExams loads the exams of the slots that the provider still holds.
func (s *Service) heldExams(ctx context.Context, providerID string, cs claimSlots) ([]Exam, error) {
	var out []Exam
	for _, id := range cs.ExamIDs {
		e, err := load(ctx, s.Store, id)
		if errors.Is(err, fault.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if (e.Status == Claimed || e.Status == InConsult) && e.ProviderID == providerID {
			out = append(out, e)
		}
	}
	return out, nil
}

// ActiveClaims counts the exams a provider holds now.
func (s *Service) ActiveClaims(ctx context.Context, providerID string) (int, error) {
	return ActiveClaims(ctx, s.Store, providerID)
}

// ActiveClaims counts the exams a provider holds now (for dispatchers).
func ActiveClaims(ctx context.Context, st store.Store, providerID string) (int, error) {
	s := &Service{Store: st}
	cs, err := s.loadSlots(ctx, providerID)
	if err != nil {
		return 0, err
	}
	ids, err := s.held(ctx, providerID, cs)
	return len(ids), err
}

// slotsOp writes the provider's slots with examID added, refusing with
// claim_limit_reached when they already hold the limit.
func (s *Service) slotsOp(ctx context.Context, providerID, examID string) (store.Op, error) {
	cs, err := s.loadSlots(ctx, providerID)
	if err != nil {
		return store.Op{}, err
	}
	ids := cs.ExamIDs
	if limit := s.Queueing().ClaimLimit; len(ids) >= limit {
		if ids, err = s.held(ctx, providerID, cs); err != nil {
			return store.Op{}, err
		}
		if len(ids) >= limit {
			return store.Op{}, &fault.Error{Kind: fault.ErrConflict, Code: "claim_limit_reached",
				Message: fmt.Sprintf("you already hold %d exams, the most at once; decide or release one first", limit),
				Details: map[string]any{"claim_limit": limit}}
		}
	}
	next := claimSlots{ExamIDs: append(slices.Clip(ids), examID)}
	data, _ := json.Marshal(next) // a list of strings cannot fail to marshal
	k := claimSlotsKey(providerID)
	cond := store.IfAbsent
	if cs.version > 0 {
		cond = store.IfVersion(cs.version)
	}
	return store.Op{Put: &store.Item{PK: k.PK, SK: k.SK, Version: cs.version + 1, Data: data}, Cond: cond}, nil
}

// Claim gives a queued exam to the provider under a lease. It answers not found when the
// provider may not take the exam (licence, type, categories, DEA, clinic
// overrides, presence for video), conflict when someone else holds it or
// when the provider holds the most claims allowed.
func (s *Service) Claim(ctx context.Context, providerID, examID string) (Exam, error) {
	e, _, err := s.providerExam(ctx, providerID, examID)
	if err != nil {
		return Exam{}, err
	}
	now := s.now()
	pol := s.Queueing()
	next, err := e.Claim(providerID, now)
	if err != nil {
		return Exam{}, err
	}
	slots, err := s.slotsOp(ctx, providerID, e.ID)
	if err != nil {
		return Exam{}, err
	}
	next.Lease = &Lease{Until: now.Add(pol.Lease)}
	err = commit(ctx, s.Store, updateOp(e, next), slots, s.audit(providerID, RoleProvider, "exam.claim", e.ID, now).Op())
	if err != nil {
		if cur, lerr := load(ctx, s.Store, e.ID); lerr == nil && cur.Status == Claimed && cur.ProviderID != providerID {
			return Exam{}, fault.Conflict("already_claimed", "another provider holds this exam")
		}
		return Exam{}, err
	}
	next.version = e.version + 1
	return next, nil
}

// Release puts the provider's claimed exam back in the queue.
func (s *Service) Release(ctx context.Context, providerID, examID string) (Exam, error) {
	e, _, err := s.providerExam(ctx, providerID, examID)
	if err != nil {
		return Exam{}, err
	}
	now := s.now()
	next, err := e.Release(providerID, now)
	if err != nil {
		return Exam{}, err
	}
	s.requeue(&next, now)
	if err := commit(ctx, s.Store, updateOp(e, next), s.audit(providerID, RoleProvider, "exam.release", e.ID, now).Op()); err != nil {
		return Exam{}, err
	}
	next.version = e.version + 1
	return next, nil
}

// requeue readies an exam going back to the queue: it waits again from
// now, without a lease, and its SLA keeps running from submission, except
// that its deadline leaves at least one escalation window from now for
// another provider to take it.
func (s *Service) requeue(e *Exam, now time.Time) {
	e.QueuedAt = &now
	e.Lease = nil
	if e.SLA == nil {
		return
	}
	sla := *e.SLA
	pol := s.Queueing()
	sla.EscalatedAt = nil // a fresh round of notification if it waits again
	if grace := pol.newSLA(e.Modality, now).EscalateAt; sla.Deadline.Before(grace) {
		sla.Deadline = grace
	}
	e.SLA = &sla
}

// SweepLeases puts back in the queue every claimed exam whose lease ran
// out. Like SweepSLA it is idempotent and safe to run concurrently.
func (s *Service) SweepLeases(ctx context.Context) (int, error) {
	now := s.now()
	n := 0
	var errs []error
	q := store.Query{Index: store.ByGSI2, PK: ClaimsIndexPK, Limit: 200}
	for {
		page, err := s.Store.Query(ctx, q)
		if err != nil {
			return n, err
		}
		for _, it := range page.Items {
			if it.GSI2SK > store.SortableTime(now)+"#~" {
				return n, errors.Join(errs...) // sorted by lease end: the rest still hold
			}
			e, err := FromItem(it)
			if err != nil {
				return n, err
			}
			if e.Status != Claimed || e.Lease == nil || now.Before(e.Lease.Until) {
				continue
			}
			next, err := e.move(Queued, RoleSystem, now)
			if err != nil {
				continue
			}
			next.ProviderID, next.ClaimedAt = "", nil
			s.requeue(&next, now)
			rec := s.audit(RoleSystem, RoleSystem, "exam.lease_expired", e.ID, now)
			rec.Reason = "claim lease of " + e.ProviderID + " ran out"
			err = commit(ctx, s.Store, updateOp(e, next), rec.Op())
			switch {
			case errors.Is(err, fault.ErrConflict):
				// Renewed or decided meanwhile.
			case err != nil:
				errs = append(errs, fmt.Errorf("exam %s: %w", e.ID, err))
			default:
				n++
			}
		}
		if page.Cursor == "" {
			return n, errors.Join(errs...)
		}
		q.Cursor = page.Cursor
	}
}

// RenewLeases extends the leases of every exam the provider holds; the
// console's presence heartbeat calls it, so a provider is only parted from
// their exams by going silent. It returns how many leases it renewed.
func (s *Service) RenewLeases(ctx context.Context, providerID string) (int, error) {
	cs, err := s.loadSlots(ctx, providerID)
	if err != nil {
		return 0, err
	}
	now := s.now()
	n := 0
	for _, id := range cs.ExamIDs {
		e, err := load(ctx, s.Store, id)
		if errors.Is(err, fault.ErrNotFound) {
			continue
		}
		if err != nil {
			return n, err
		}
		if e.Status != Claimed || e.ProviderID != providerID {
			continue
		}
		next := e
		next.Lease = &Lease{Until: now.Add(s.Queueing().Lease)}
		next.UpdatedAt = now
		err = commit(ctx, s.Store, updateOp(e, next))
		if errors.Is(err, fault.ErrConflict) {
			continue // decided, released or expired meanwhile
		}
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// Sweep runs both sweeps at once: the schedule's one job. They read
// different index partitions and change exams only by compare-and-set, so
// an exam both touch (a lease that ran out puts it back in the queue) is
// changed by one and re-read by the other's next run.
func (s *Service) Sweep(ctx context.Context) (SweepReport, error) {
	var leases int
	var rep SweepReport
	err := parallel.Do(ctx,
		func(ctx context.Context) (err error) { leases, err = s.SweepLeases(ctx); return err },
		func(ctx context.Context) (err error) { rep, err = s.SweepSLA(ctx); return err },
	)
	rep.LeasesExpired = leases
	return rep, err
}
