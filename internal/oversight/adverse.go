package oversight

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/goodfaith/goodfaith/internal/audit"
	"github.com/goodfaith/goodfaith/internal/exam"
	"github.com/goodfaith/goodfaith/internal/fault"
	"github.com/goodfaith/goodfaith/internal/notify"
	"github.com/goodfaith/goodfaith/internal/pso"
	"github.com/goodfaith/goodfaith/internal/store"
)

// AdverseEventTypes are the kinds of adverse event a clinic records.
var AdverseEventTypes = []string{
	"vascular_occlusion", "anaphylaxis", "allergic_reaction", "infection", "nodule_granuloma", "ptosis",
	"vasovagal_syncope", "burn", "hypoglycemia", "gastrointestinal", "injection_site_reaction", "other",
}

// Severities of an adverse event.
var Severities = []string{"mild", "moderate", "severe", "life_threatening"}

// AdverseEvent is an adverse event recorded against an exam (and its PSO).
type AdverseEvent struct {
	ID          string    `json:"id"`
	ClinicID    string    `json:"clinic_id"`
	ExamID      string    `json:"exam_id"`
	PSOID       string    `json:"pso_id,omitempty"`
	Type        string    `json:"type"`
	Severity    string    `json:"severity"`
	OccurredAt  time.Time `json:"occurred_at"`
	Description string    `json:"description"` // PHI
	Actions     string    `json:"actions"`     // PHI: what was done
	RecordedBy  string    `json:"recorded_by"`
	RecordedAt  time.Time `json:"recorded_at"`
}

// AdverseEventInput is POST /v1/clinic/adverse-events.
type AdverseEventInput struct {
	ExamID      string `json:"exam_id"`
	PSOID       string `json:"pso_id"`
	Type        string `json:"type"`
	Severity    string `json:"severity"`
	OccurredAt  string `json:"occurred_at"` // RFC 3339
	Description string `json:"description"`
	Actions     string `json:"actions"`
}

func adverseSK(at time.Time, id string) string { return "AE#" + store.SortableTime(at) + "#" + id }

// RecordAdverseEvent keeps an adverse event with the exam's record and
// notifies the clinic's medical directors (the message names the clinic and
// the exam id, never the patient).
func (s *Service) RecordAdverseEvent(ctx context.Context, a Actor, clinicID string, in AdverseEventInput) (AdverseEvent, error) {
	if !slices.Contains(AdverseEventTypes, in.Type) {
		return AdverseEvent{}, &fault.Error{Kind: fault.ErrInvalid, Code: "invalid_type", Field: "type", Message: "not an adverse event type", Details: map[string]any{"types": AdverseEventTypes}}
	}
	if !slices.Contains(Severities, in.Severity) {
		return AdverseEvent{}, &fault.Error{Kind: fault.ErrInvalid, Code: "invalid_severity", Field: "severity", Message: "not a severity", Details: map[string]any{"severities": Severities}}
	}
	now := s.now()
	occurred, err := time.Parse(time.RFC3339, in.OccurredAt)
	if err != nil {
		return AdverseEvent{}, fault.Invalid("invalid_time", "occurred_at", "when it happened, RFC 3339")
	}
	if occurred.After(now.Add(5 * time.Minute)) {
		return AdverseEvent{}, fault.Invalid("invalid_time", "occurred_at", "occurred_at is in the future")
	}
	desc, err := checkText("description", in.Description, true, 10_000)
	if err != nil {
		return AdverseEvent{}, err
	}
	actions, err := checkText("actions", in.Actions, true, 10_000)
	if err != nil {
		return AdverseEvent{}, err
	}
	it, err := s.Store.Get(ctx, store.Key{PK: "EXAM#" + in.ExamID, SK: "EXAM"})
	if errors.Is(err, store.ErrNotFound) || in.ExamID == "" {
		return AdverseEvent{}, fault.Invalid("unknown_exam", "exam_id", "no exam of this clinic has this id")
	}
	if err != nil {
		return AdverseEvent{}, err
	}
	e, err := exam.FromItem(it)
	if err != nil {
		return AdverseEvent{}, err
	}
	if e.ClinicID != clinicID {
		return AdverseEvent{}, fault.Invalid("unknown_exam", "exam_id", "no exam of this clinic has this id")
	}
	if in.PSOID != "" {
		r, err := pso.Get(ctx, s.Store, in.PSOID)
		if err != nil || r.ClinicID != clinicID || r.ExamID != e.ID {
			return AdverseEvent{}, fault.Invalid("unknown_pso", "pso_id", "no PSO of this exam has this id")
		}
	} else if e.PSO != nil {
		in.PSOID = e.PSO.ID
	}
	ev := AdverseEvent{ID: s.IDs.New("ae"), ClinicID: clinicID, ExamID: e.ID, PSOID: in.PSOID, Type: in.Type, Severity: in.Severity,
		OccurredAt: occurred.UTC(), Description: desc, Actions: actions, RecordedBy: a.ID, RecordedAt: now}
	op, err := putOp(store.Key{PK: clinicPK(clinicID), SK: adverseSK(now, ev.ID)}, ev, 0)
	if err != nil {
		return AdverseEvent{}, err
	}
	if err := s.commit(ctx, op, s.auditRec(a, "adverse_event.record", e.ID, ev.ID).Op()); err != nil {
		return AdverseEvent{}, err
	}
	if err := s.notifyDirectors(ctx, clinicID, ev); err != nil {
		return AdverseEvent{}, err
	}
	return ev, nil
}

// notifyDirectors tells each of the clinic's directors; message ids make a
// retry send nothing twice.
func (s *Service) notifyDirectors(ctx context.Context, clinicID string, ev AdverseEvent) error {
	dirs, err := s.Directory.ClinicDirectors(ctx, clinicID)
	if err != nil {
		return err
	}
	clinic, err := s.Directory.Clinic(ctx, clinicID)
	if err != nil {
		return err
	}
	for _, d := range dirs {
		m := notify.Message{ID: "msg_" + ev.ID + "_" + d.ID, To: d.ID, Channel: "console",
			Subject: "Adverse event (" + ev.Severity + ") recorded at " + clinic.Name,
			Body:    "An adverse event of type " + ev.Type + " was recorded against exam " + ev.ExamID + ". Sign in to review it.",
			At:      ev.RecordedAt}
		if err := s.Notifier.Notify(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

// AdverseEvents lists the clinic's adverse events, oldest first, auditing
// the read against each exam.
func (s *Service) AdverseEvents(ctx context.Context, a Actor, clinicID string) ([]AdverseEvent, error) {
	items, err := s.queryAll(ctx, store.Query{Index: store.Primary, PK: clinicPK(clinicID), SKPrefix: "AE#"})
	if err != nil {
		return nil, err
	}
	out := []AdverseEvent{}
	for _, it := range items {
		var ev AdverseEvent
		if err := json.Unmarshal(it.Data, &ev); err != nil {
			return nil, err
		}
		out = append(out, ev)
		if err := audit.Append(ctx, s.Store, s.auditRec(a, "adverse_event.read", ev.ExamID, ev.ID)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// AdverseEventsCSV is the export: a header line and one line per event.
// Cells starting with =, +, - or @ are prefixed with ' so a spreadsheet
// does not run them as formulas.
func AdverseEventsCSV(evs []AdverseEvent) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"id", "clinic_id", "exam_id", "pso_id", "type", "severity", "occurred_at", "description", "actions", "recorded_by", "recorded_at"})
	for _, e := range evs {
		_ = w.Write([]string{e.ID, e.ClinicID, e.ExamID, e.PSOID, e.Type, e.Severity, e.OccurredAt.Format(time.RFC3339),
			safeCell(e.Description), safeCell(e.Actions), e.RecordedBy, e.RecordedAt.Format(time.RFC3339)})
	}
	w.Flush()
	return b.Bytes()
}

func safeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
