package oversight

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/goodfaith/goodfaith/internal/audit"
	"github.com/goodfaith/goodfaith/internal/exam"
	"github.com/goodfaith/goodfaith/internal/fault"
	"github.com/goodfaith/goodfaith/internal/store"
)

// ReviewDueDays is how long after the decision a sampled chart should be
// reviewed; past it the chart is overdue and the dashboard says so.
const ReviewDueDays = 30

// DefaultReviewBasisPoints is the default share of each provider's decided
// exams sampled for chart review: 10%.
const DefaultReviewBasisPoints = 1000

// Settings are a clinic's oversight settings.
type Settings struct {
	// ReviewPercent is the share of decided exams sampled (0.01 to 100);
	// exams with a contraindication flag are always sampled.
	ReviewPercent float64   `json:"review_percent"`
	UpdatedBy     string    `json:"updated_by,omitempty"`
	UpdatedAt     time.Time `json:"updated_at,omitzero"`
}

func settingsKey(clinicID string) store.Key {
	return store.Key{PK: clinicPK(clinicID), SK: "OVERSIGHT"}
}

// SettingsOf returns the clinic's settings, defaults filled in.
func (s *Service) SettingsOf(ctx context.Context, clinicID string) (Settings, int64, error) {
	st := Settings{ReviewPercent: DefaultReviewBasisPoints / 100}
	v, err := getJSON(ctx, s.Store, settingsKey(clinicID), &st)
	if errors.Is(err, store.ErrNotFound) {
		return st, 0, nil
	}
	return st, v, err
}

// PutSettings changes the clinic's settings.
func (s *Service) PutSettings(ctx context.Context, a Actor, clinicID string, in Settings) (Settings, error) {
	if in.ReviewPercent < 0.01 || in.ReviewPercent > 100 {
		return Settings{}, fault.Invalid("out_of_range", "review_percent", "review_percent must be 0.01 to 100")
	}
	_, v, err := s.SettingsOf(ctx, clinicID)
	if err != nil {
		return Settings{}, err
	}
	st := Settings{ReviewPercent: in.ReviewPercent, UpdatedBy: a.ID, UpdatedAt: s.now()}
	op, err := putOp(settingsKey(clinicID), st, v)
	if err != nil {
		return Settings{}, err
	}
	return st, s.commit(ctx, op, s.auditRec(a, "oversight.settings", clinicSubject(clinicID), fmt.Sprintf("review_percent %.2f", st.ReviewPercent)).Op())
}

// Sampled reports whether an exam falls in the chart-review sample: every
// flagged exam, and otherwise by the SHA-256 of the exam id, so that the
// same exam is always sampled or not, whoever asks and whenever.
func Sampled(examID string, flagged bool, percent float64) bool {
	if flagged {
		return true
	}
	sum := sha256.Sum256([]byte(examID))
	bucket := binary.BigEndian.Uint64(sum[:8]) % 10000
	return float64(bucket) < percent*100
}

// Review is the director's review of one sampled chart.
type Review struct {
	ExamID     string    `json:"exam_id"`
	ProviderID string    `json:"provider_id"`
	Verdict    string    `json:"verdict"` // agree | concern
	Note       string    `json:"note,omitempty"`
	ReviewedBy string    `json:"reviewed_by"`
	ReviewedAt time.Time `json:"reviewed_at"`
}

func reviewKey(clinicID, examID string) store.Key {
	return store.Key{PK: clinicPK(clinicID), SK: "REVIEW#" + examID}
}

// QueueItem is one sampled exam.
type QueueItem struct {
	ExamID     string     `json:"exam_id"`
	ProviderID string     `json:"provider_id"`
	Outcome    string     `json:"outcome"`
	DecidedAt  *time.Time `json:"decided_at,omitempty"`
	Flagged    bool       `json:"flagged"`
	Reason     string     `json:"reason"` // flagged | sampled
	Review     *Review    `json:"review,omitempty"`
	DueAt      *time.Time `json:"due_at,omitempty"` // ReviewDueDays after the decision
	Overdue    bool       `json:"overdue"`          // unreviewed past DueAt
}

// ProviderStats is chart-review completion for one provider.
type ProviderStats struct {
	ProviderID string  `json:"provider_id,omitempty"`
	Decided    int     `json:"decided"`
	Sampled    int     `json:"sampled"`
	Reviewed   int     `json:"reviewed"`
	Concerns   int     `json:"concerns"`
	Overdue    int     `json:"overdue"`    // sampled, unreviewed, past due
	Completion float64 `json:"completion"` // reviewed / sampled, 1 when nothing is sampled
}

// ReviewQueue is the director's queue and its completion.
type ReviewQueue struct {
	ReviewPercent float64         `json:"review_percent"`
	Items         []QueueItem     `json:"items"` // unreviewed first, oldest first
	Totals        ProviderStats   `json:"totals"`
	Providers     []ProviderStats `json:"providers"`
}

// decidedExams lists the clinic's exams a provider decided (approved,
// deferred or denied).
func (s *Service) decidedExams(ctx context.Context, clinicID string) ([]exam.Exam, error) {
	items, err := s.queryAll(ctx, store.Query{Index: store.ByGSI1, PK: exam.ClinicIndexPK(clinicID)})
	if err != nil {
		return nil, err
	}
	var out []exam.Exam
	for _, it := range items {
		e, err := exam.FromItem(it)
		if err != nil {
			return nil, err
		}
		if e.Status == exam.Decided && e.Outcome.Billable() {
			out = append(out, e)
		}
	}
	return out, nil
}

// Queue builds the chart-review queue and completion statistics.
func (s *Service) Queue(ctx context.Context, clinicID string) (ReviewQueue, error) {
	st, _, err := s.SettingsOf(ctx, clinicID)
	if err != nil {
		return ReviewQueue{}, err
	}
	exams, err := s.decidedExams(ctx, clinicID)
	if err != nil {
		return ReviewQueue{}, err
	}
	revItems, err := s.queryAll(ctx, store.Query{Index: store.Primary, PK: clinicPK(clinicID), SKPrefix: "REVIEW#"})
	if err != nil {
		return ReviewQueue{}, err
	}
	reviews := map[string]Review{}
	for _, it := range revItems {
		var r Review
		if err := json.Unmarshal(it.Data, &r); err != nil {
			return ReviewQueue{}, err
		}
		reviews[r.ExamID] = r
	}
	now := s.now()
	q := ReviewQueue{ReviewPercent: st.ReviewPercent, Items: []QueueItem{}, Providers: []ProviderStats{}}
	per := map[string]*ProviderStats{}
	for _, e := range exams {
		ps := per[e.ProviderID]
		if ps == nil {
			ps = &ProviderStats{ProviderID: e.ProviderID}
			per[e.ProviderID] = ps
		}
		ps.Decided++
		flagged := len(e.Flags) > 0
		if !Sampled(e.ID, flagged, st.ReviewPercent) {
			continue
		}
		ps.Sampled++
		it := QueueItem{ExamID: e.ID, ProviderID: e.ProviderID, Outcome: string(e.Outcome), DecidedAt: e.DecidedAt, Flagged: flagged, Reason: "sampled"}
		if flagged {
			it.Reason = "flagged"
		}
		if e.DecidedAt != nil {
			due := e.DecidedAt.AddDate(0, 0, ReviewDueDays)
			it.DueAt = &due
		}
		if r, ok := reviews[e.ID]; ok {
			it.Review = &r
			ps.Reviewed++
			if r.Verdict == VerdictConcern {
				ps.Concerns++
			}
		} else if it.DueAt != nil && now.After(*it.DueAt) {
			it.Overdue = true
			ps.Overdue++
		}
		q.Items = append(q.Items, it)
	}
	sort.SliceStable(q.Items, func(i, j int) bool {
		a, b := q.Items[i], q.Items[j]
		if (a.Review == nil) != (b.Review == nil) {
			return a.Review == nil
		}
		if ta, tb := timeOf(a.DecidedAt), timeOf(b.DecidedAt); !ta.Equal(tb) {
			return ta.Before(tb)
		}
		return a.ExamID < b.ExamID
	})
	for _, ps := range per {
		ps.Completion = completion(ps.Reviewed, ps.Sampled)
		q.Providers = append(q.Providers, *ps)
		q.Totals.Decided += ps.Decided
		q.Totals.Sampled += ps.Sampled
		q.Totals.Reviewed += ps.Reviewed
		q.Totals.Concerns += ps.Concerns
		q.Totals.Overdue += ps.Overdue
	}
	sort.Slice(q.Providers, func(i, j int) bool { return q.Providers[i].ProviderID < q.Providers[j].ProviderID })
	q.Totals.Completion = completion(q.Totals.Reviewed, q.Totals.Sampled)
	return q, nil
}

func timeOf(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

func completion(done, of int) float64 {
	if of == 0 {
		return 1
	}
	return float64(done) / float64(of)
}

// Verdicts of a review.
const (
	VerdictAgree   = "agree"
	VerdictConcern = "concern"
)

// ReviewInput is PUT .../reviews/{exam}.
type ReviewInput struct {
	Verdict string `json:"verdict"`
	Note    string `json:"note"`
}

// sampledExam loads one of the clinic's exams that is in the sample.
func (s *Service) sampledExam(ctx context.Context, clinicID, examID string) (exam.Exam, error) {
	it, err := s.Store.Get(ctx, store.Key{PK: "EXAM#" + examID, SK: "EXAM"})
	if errors.Is(err, store.ErrNotFound) {
		return exam.Exam{}, fault.NotFound("exam_not_found", "no such exam in the review queue")
	}
	if err != nil {
		return exam.Exam{}, err
	}
	e, err := exam.FromItem(it)
	if err != nil {
		return exam.Exam{}, err
	}
	st, _, err := s.SettingsOf(ctx, clinicID)
	if err != nil {
		return exam.Exam{}, err
	}
	if e.ClinicID != clinicID || e.Status != exam.Decided || !e.Outcome.Billable() || !Sampled(e.ID, len(e.Flags) > 0, st.ReviewPercent) {
		return exam.Exam{}, fault.NotFound("exam_not_found", "no such exam in the review queue")
	}
	return e, nil
}

// ReviewExam returns a sampled exam in full to its clinic's director, and
// the review if there is one. The read is audited.
func (s *Service) ReviewExam(ctx context.Context, a Actor, clinicID, examID string) (exam.Exam, *Review, error) {
	e, err := s.sampledExam(ctx, clinicID, examID)
	if err != nil {
		return exam.Exam{}, nil, err
	}
	var r *Review
	var rv Review
	if _, err := getJSON(ctx, s.Store, reviewKey(clinicID, examID), &rv); err == nil {
		r = &rv
	} else if !errors.Is(err, store.ErrNotFound) {
		return exam.Exam{}, nil, err
	}
	return e, r, audit.Append(ctx, s.Store, s.auditRec(a, "chart_review.read", e.ID, ""))
}

// RecordReview records the director's review of a sampled exam, once.
func (s *Service) RecordReview(ctx context.Context, a Actor, clinicID, examID string, in ReviewInput) (Review, error) {
	if in.Verdict != VerdictAgree && in.Verdict != VerdictConcern {
		return Review{}, fault.Invalid("invalid_verdict", "verdict", `verdict must be "agree" or "concern"`)
	}
	note, err := checkText("note", in.Note, in.Verdict == VerdictConcern, 10_000)
	if err != nil {
		return Review{}, err
	}
	e, err := s.sampledExam(ctx, clinicID, examID)
	if err != nil {
		return Review{}, err
	}
	r := Review{ExamID: e.ID, ProviderID: e.ProviderID, Verdict: in.Verdict, Note: note, ReviewedBy: a.ID, ReviewedAt: s.now()}
	op, err := putOp(reviewKey(clinicID, e.ID), r, 0)
	if err != nil {
		return Review{}, err
	}
	if err := s.Store.Transact(ctx, op, s.auditRec(a, "chart_review.record", e.ID, in.Verdict).Op()); err != nil {
		if errors.Is(err, store.ErrConditionFailed) {
			return Review{}, fault.Conflict("already_reviewed", "this chart is already reviewed")
		}
		return Review{}, err
	}
	return r, nil
}
