package exam

import (
	"context"
	"sort"
	"time"

	"github.com/goodfaith/goodfaith/internal/clinicrules"
	"github.com/goodfaith/goodfaith/internal/directory"
	"github.com/goodfaith/goodfaith/internal/fault"
	"github.com/goodfaith/goodfaith/internal/hours"
	"github.com/goodfaith/goodfaith/internal/presence"
	"github.com/goodfaith/goodfaith/internal/questionnaire"
	"github.com/goodfaith/goodfaith/internal/routing"
	"github.com/goodfaith/goodfaith/internal/rules"
	"github.com/goodfaith/goodfaith/internal/store"
)

// QueueItem is an exam a provider may take. It carries no identity.
type QueueItem struct {
	ExamID       string               `json:"exam_id"`
	State        string               `json:"state"`
	Treatments   []string             `json:"treatments"`
	Modality     string               `json:"modality"`
	WaitingSince time.Time            `json:"waiting_since"`
	Flags        []questionnaire.Flag `json:"flags"`
	// EscalateAt is when the exam is overdue (SLA); Escalated says it is.
	EscalateAt *time.Time `json:"escalate_at,omitempty"`
	Escalated  bool       `json:"escalated"`
	Deadline   *time.Time `json:"deadline,omitempty"`

	sortKey string
}

// Queue lists the queued exams the provider may take: the union of the
// queues of the states where they hold an active licence, keeping those
// they are eligible for, nearest its SLA first (which, within one
// modality, is oldest first).
func (s *Service) Queue(ctx context.Context, providerID string) ([]QueueItem, error) {
	return s.QueueFirst(ctx, providerID, 0)
}

// queuePageSize is how many queued exams one store query reads when a poll
// wants limit items: a few times limit, since some queued exams are not
// eligible for this provider (and QueueFirst pages on until it has limit
// or the state's queue ends), but never the whole page for a short poll.
// Without a limit every page is as large as the store allows.
func queuePageSize(limit int) int {
	if limit <= 0 {
		return store.MaxQueryLimit
	}
	return min(max(4*limit, 25), store.MaxQueryLimit)
}

// QueueFirst is the first limit items of Queue (all of them when limit ≤
// 0). Each state's queue is read in its order and no further than limit
// eligible exams, so a poll costs the head of the queue, not its length:
// under load a backlog made every provider's poll read and decode every
// queued exam, which slowed deciding, which grew the backlog.
func (s *Service) QueueFirst(ctx context.Context, providerID string, limit int) ([]QueueItem, error) {
	p, err := s.Directory.Provider(ctx, providerID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	online, err := presence.Online(ctx, s.Store, s.Clock, providerID)
	if err != nil {
		return nil, err
	}
	items := []QueueItem{}
	seen := map[string]bool{}
	overrides := map[string]rules.Overrides{}
	for _, l := range p.Licenses {
		if seen[l.State] || !l.ActiveOn(now) {
			continue
		}
		seen[l.State] = true
		q := store.Query{Index: store.ByGSI2, PK: QueueIndexPK(l.State), Limit: queuePageSize(limit)}
		inState := 0
	state:
		for {
			page, err := s.Store.Query(ctx, q)
			if err != nil {
				return nil, err
			}
			for _, it := range page.Items {
				e, err := FromItem(it)
				if err != nil {
					return nil, err
				}
				if e.Status != Queued {
					continue
				}
				ovs, ok := overrides[e.ClinicID]
				if !ok {
					rec, err := clinicrules.Get(ctx, s.Store, e.ClinicID)
					if err != nil {
						return nil, err
					}
					ovs = rec.Rules
					overrides[e.ClinicID] = ovs
				}
				if s.refusal(p, e, ovs, routing.Live{Online: online}, now) != routing.Eligible {
					continue
				}
				qi := QueueItem{ExamID: e.ID, State: e.State, Treatments: e.Treatments, Modality: e.Modality, WaitingSince: *e.QueuedAt, Flags: nonNil(e.Flags), sortKey: it.GSI2SK}
				if e.SLA != nil {
					qi.EscalateAt, qi.Deadline, qi.Escalated = &e.SLA.EscalateAt, &e.SLA.Deadline, e.SLA.EscalatedAt != nil
				}
				items = append(items, qi)
				if inState++; limit > 0 && inState == limit {
					break state // the rest of this state's queue comes after
				}
			}
			if page.Cursor == "" {
				break
			}
			q.Cursor = page.Cursor
		}
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].sortKey < items[j].sortKey })
	if limit > 0 && len(items) > limit {
		items = items[:limit]
	}
	return items, nil
}

// refusal says why p may not take e now (routing.Eligible when they may).
// The claim limit is not part of it: a provider at the limit still sees
// the queue, and a claim then answers claim_limit_reached.
func (s *Service) refusal(p directory.Provider, e Exam, ovs rules.Overrides, live routing.Live, now time.Time) routing.Refusal {
	rule, err := s.Rules.ForClinicExam(e.State, e.Treatments, now, ovs)
	if err != nil {
		return routing.LicenseTypeNotAllowed // no one may take it today
	}
	req := routing.Request{State: e.State, Categories: e.Treatments, Modality: rules.Modality(e.Modality), Rule: rule}
	return routing.CheckLive(p, req, live, int(^uint(0)>>1), now)
}

// eligible returns a not-found error when p may not take e now, so that
// an ineligible provider learns nothing about the exam.
func (s *Service) eligible(ctx context.Context, p directory.Provider, e Exam, now time.Time) error {
	rec, err := clinicrules.Get(ctx, s.Store, e.ClinicID)
	if err != nil {
		return err
	}
	var live routing.Live
	if e.Modality == string(rules.Video) {
		if live.Online, err = presence.Online(ctx, s.Store, s.Clock, p.ID); err != nil {
			return err
		}
	}
	if s.refusal(p, e, rec.Rules, live, now) != routing.Eligible {
		return errExamNotFound
	}
	return nil
}

// ruleFor resolves the rule of an exam for a clinic: the law tightened by
// the clinic's overrides.
func (s *Service) ruleFor(ctx context.Context, clinicID, state string, treatments []string, now time.Time) (rules.Exam, error) {
	rec, err := clinicrules.Get(ctx, s.Store, clinicID)
	if err != nil {
		return rules.Exam{}, err
	}
	return s.Rules.ForClinicExam(state, treatments, now, rec.Rules)
}

// checkHours refuses a live video exam outside the clinic's exam hours.
func checkHours(c directory.Clinic, modality string, now time.Time) error {
	if modality != string(rules.Video) {
		return nil // asynchronous exams are accepted at any time
	}
	w, err := hours.Parse(c.Timezone, c.Hours)
	if err != nil {
		return err
	}
	if w.OpenAt(now) {
		return nil
	}
	fe := &fault.Error{Kind: fault.ErrInvalid, Code: "clinic_closed", Field: "modality",
		Message: "live video exams run during the clinic's exam hours; choose an asynchronous exam or come back when it opens"}
	if next, ok := w.NextOpen(now); ok {
		fe.Details = map[string]any{"next_open_at": next.UTC()}
	}
	return fe
}

// checkClinicHours is checkHours for an exam's clinic.
func (s *Service) checkClinicHours(ctx context.Context, e Exam, now time.Time) error {
	if e.Modality != string(rules.Video) {
		return nil
	}
	c, err := s.Directory.Clinic(ctx, e.ClinicID)
	if err != nil {
		return err
	}
	return checkHours(c, e.Modality, now)
}
