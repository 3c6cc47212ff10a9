package webhook

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/goodfaith/goodfaith/internal/exam"
	"github.com/goodfaith/goodfaith/internal/store"
)

// Event types.
const (
	ExamSubmitted = "exam.submitted"
	ExamDecided   = "exam.decided"
	PSOSigned     = "pso.signed"
)

// ConsumerName names the events consumer's change-feed checkpoint.
const ConsumerName = "webhooks"

// Event is what a delivery's body holds.
type Event struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	CreatedAt time.Time       `json:"created_at"`
	ClinicID  string          `json:"clinic_id"`
	Data      json.RawMessage `json:"data"`
}

// eventID derives from the exam and the type: each exam has at most one
// event of each type, so a redelivered change makes the same event.
func eventID(examID, typ string) string {
	sum := sha256.Sum256([]byte(typ + "\x00" + examID))
	return "evt_" + hex.EncodeToString(sum[:13])
}

type examData struct {
	ID          string     `json:"id"`
	Status      string     `json:"status"`
	Outcome     string     `json:"outcome,omitempty"`
	Reason      string     `json:"reason,omitempty"`
	State       string     `json:"state"`
	Treatments  []string   `json:"treatments"`
	Modality    string     `json:"modality"`
	SubmittedAt *time.Time `json:"submitted_at,omitempty"`
	DecidedAt   *time.Time `json:"decided_at,omitempty"`
	PSO         *psoData   `json:"pso,omitempty"`
}

type psoData struct {
	ID         string `json:"id"`
	ExamID     string `json:"exam_id"`
	ValidUntil string `json:"valid_until"`
}

// EventsFor returns the events a write of an exam from old (nil for a
// creation) to e raises. Bodies name no patient: the clinic reads the exam
// with its key when it needs more.
func EventsFor(old *exam.Exam, e exam.Exam) []Event {
	var out []Event
	add := func(typ string, at time.Time, data any) {
		raw, _ := json.Marshal(data) // plain data
		out = append(out, Event{ID: eventID(e.ID, typ), Type: typ, CreatedAt: at.UTC(), ClinicID: e.ClinicID, Data: raw})
	}
	base := examData{ID: e.ID, State: e.State, Treatments: e.Treatments, Modality: e.Modality, SubmittedAt: e.SubmittedAt}
	if e.SubmittedAt != nil && (old == nil || old.SubmittedAt == nil) {
		d := base
		d.Status = string(exam.Submitted)
		add(ExamSubmitted, *e.SubmittedAt, map[string]any{"exam": d})
	}
	decidedAt := e.UpdatedAt
	if e.DecidedAt != nil {
		decidedAt = *e.DecidedAt
	}
	if e.Status == exam.Decided && (old == nil || old.Status != exam.Decided) {
		d := base
		d.Status, d.Outcome, d.DecidedAt = string(e.Status), string(e.Outcome), &decidedAt
		if e.Outcome == exam.Deferred && e.Decision != nil {
			d.Reason = e.Decision.Reason
		}
		if e.PSO != nil {
			d.PSO = &psoData{ID: e.PSO.ID, ExamID: e.ID, ValidUntil: e.PSO.ValidUntil}
		}
		add(ExamDecided, decidedAt, map[string]any{"exam": d})
	}
	if e.PSO != nil && (old == nil || old.PSO == nil) {
		add(PSOSigned, decidedAt, map[string]any{"pso": psoData{ID: e.PSO.ID, ExamID: e.ID, ValidUntil: e.PSO.ValidUntil}})
	}
	return out
}

// Events is the change-feed consumer that turns exam writes into queued
// deliveries for clinics with an endpoint.
type Events struct {
	Queue     Queue
	Endpoints Endpoints
}

// Handle is a store.ChangeHandler; a redelivered change queues nothing new.
func (ev Events) Handle(ctx context.Context, changes []store.Change) error {
	for _, ch := range changes {
		if !exam.IsExamItem(ch.New) {
			continue
		}
		e, err := exam.FromItem(*ch.New)
		if err != nil {
			return fmt.Errorf("webhook events: change %s: %w", ch.ID, err)
		}
		var old *exam.Exam
		if exam.IsExamItem(ch.Old) {
			o, err := exam.FromItem(*ch.Old)
			if err != nil {
				return fmt.Errorf("webhook events: change %s: %w", ch.ID, err)
			}
			old = &o
		}
		events := EventsFor(old, e)
		if len(events) == 0 {
			continue
		}
		if _, err := ev.Endpoints.Get(ctx, e.ClinicID); errors.Is(err, ErrNoEndpoint) {
			continue // the clinic takes no webhooks
		} else if err != nil {
			return err
		}
		for _, event := range events {
			if err := ev.Queue.Enqueue(ctx, event); err != nil {
				return err
			}
		}
	}
	return nil
}
