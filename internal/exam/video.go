package exam

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/goodfaith/goodfaith/internal/fault"
	"github.com/goodfaith/goodfaith/internal/rules"
	"github.com/goodfaith/goodfaith/internal/store"
)

// NoShowRings is how many rings a patient must leave unanswered before the
// provider may end a video exam as not_applicable.
const NoShowRings = 2

// Room is what video signaling needs to know about an exam: no patient
// identity, no answers.
type Room struct {
	ExamID     string
	ClinicID   string
	Status     Status
	Modality   string
	State      string
	Treatments []string
	ProviderID string
}

// Open reports whether the exam's room may be joined: the patient waits in
// it from submission until the decision.
func (r Room) Open() bool { return r.Status == Queued || r.Status == Claimed || r.Status == InConsult }

// VideoRoom reads the signaling view of an exam. It reads no PHI, so it is
// not audited.
func (s *Service) VideoRoom(ctx context.Context, examID string) (Room, error) {
	e, err := load(ctx, s.Store, examID)
	if err != nil {
		return Room{}, err
	}
	return Room{ExamID: e.ID, ClinicID: e.ClinicID, Status: e.Status, Modality: e.Modality, State: e.State,
		Treatments: slices.Clone(e.Treatments), ProviderID: e.ProviderID}, nil
}

// MayTake keeps the providers, among ids, who may take the exam now (for
// ringing them). Unknown providers are left out.
func (s *Service) MayTake(ctx context.Context, examID string, providerIDs []string) ([]string, error) {
	e, err := load(ctx, s.Store, examID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var out []string
	for _, id := range providerIDs {
		p, err := s.Directory.Provider(ctx, id)
		if err != nil {
			continue
		}
		switch err := s.eligible(ctx, p, e, now); {
		case err == nil:
			out = append(out, id)
		case !errors.Is(err, fault.ErrNotFound):
			return nil, err
		}
	}
	return out, nil
}

// StartConsult moves the provider's claimed exam into the live consult
// when patient and provider are both in the call. It is idempotent.
func (s *Service) StartConsult(ctx context.Context, providerID, examID string) (Exam, error) {
	e, err := load(ctx, s.Store, examID)
	if err != nil {
		return Exam{}, err
	}
	if e.ProviderID != providerID {
		return Exam{}, errExamNotFound
	}
	if e.Status == InConsult {
		return e, nil
	}
	now := s.now()
	next, err := e.move(InConsult, providerID, now)
	if err != nil {
		return Exam{}, err
	}
	if err := commit(ctx, s.Store, updateOp(e, next), s.audit(providerID, RoleProvider, "exam.consult_start", e.ID, now).Op()); err != nil {
		return Exam{}, err
	}
	next.version = e.version + 1
	return next, nil
}

// NoShow ends the provider's video exam as not_applicable (decided, never
// billed) after the patient left unansweredRings rings unanswered; at least
// NoShowRings are required. Repeating it returns the decided exam.
func (s *Service) NoShow(ctx context.Context, providerID, examID string, unansweredRings int) (Exam, error) {
	e, err := load(ctx, s.Store, examID)
	if err != nil {
		return Exam{}, err
	}
	if e.ProviderID != providerID {
		return Exam{}, errExamNotFound
	}
	if e.Status == Decided && e.Outcome == NotApplicable && e.Decision != nil && e.Decision.DecidedBy == providerID {
		return e, nil
	}
	if e.Modality != string(rules.Video) {
		return Exam{}, fault.Conflict("not_video", "only a video exam ends for a patient who does not answer")
	}
	if unansweredRings < NoShowRings {
		return Exam{}, fault.Conflict("ring_again", fmt.Sprintf("the patient has left %d of %d rings unanswered", unansweredRings, NoShowRings))
	}
	now := s.now()
	d := Decision{Outcome: NotApplicable, Reason: fmt.Sprintf("patient did not answer after %d rings", unansweredRings), DecidedBy: providerID}
	next, err := e.Decide(d, now)
	if err != nil {
		return Exam{}, err
	}
	if err := commit(ctx, s.Store, updateOp(e, next), s.audit(providerID, RoleProvider, "exam.no_show", e.ID, now).Op()); err != nil {
		return Exam{}, err
	}
	next.version = e.version + 1
	return next, nil
}

// QueuePosition is the place of a queued video exam among the video exams
// waiting in its state's queue, in the order providers see them (1 is
// next). It is 0 for an exam that is not a queued video exam. It reads no
// PHI and returns none.
func (s *Service) QueuePosition(ctx context.Context, examID string) (int, error) {
	e, err := load(ctx, s.Store, examID)
	if err != nil {
		return 0, err
	}
	if e.Status != Queued || e.QueuedAt == nil || e.Modality != string(rules.Video) {
		return 0, nil
	}
	own := e.queueSortKey()
	pos := 1
	q := store.Query{Index: store.ByGSI2, PK: QueueIndexPK(e.State), Limit: store.MaxQueryLimit}
	for {
		page, err := s.Store.Query(ctx, q)
		if err != nil {
			return 0, err
		}
		for _, it := range page.Items {
			if it.GSI2SK >= own {
				continue
			}
			o, err := FromItem(it)
			if err != nil {
				return 0, err
			}
			if o.Status == Queued && o.Modality == string(rules.Video) {
				pos++
			}
		}
		if page.Cursor == "" {
			return pos, nil
		}
		q.Cursor = page.Cursor
	}
}
