package httpapi

import (
	"encoding/json"
	"time"

	"github.com/goodfaith/goodfaith/internal/exam"
	"github.com/goodfaith/goodfaith/internal/pso"
	"github.com/goodfaith/goodfaith/internal/questionnaire"
)

// What each audience sees of an exam: the least each needs.

type psoRefView struct {
	ID         string `json:"id"`
	ValidUntil string `json:"valid_until"`
}

// patientExamView is the patient's own exam.
type patientExamView struct {
	ID                string                     `json:"id"`
	Status            exam.Status                `json:"status"`
	Outcome           exam.Outcome               `json:"outcome,omitempty"`
	Reason            string                     `json:"reason,omitempty"`
	State             string                     `json:"state"`
	Treatments        []string                   `json:"treatments"`
	Modality          string                     `json:"modality"`
	ModalitiesAllowed []string                   `json:"modalities_allowed"`
	Patient           exam.Patient               `json:"patient"`
	Answers           map[string]json.RawMessage `json:"answers"`
	Consents          exam.Consents              `json:"consents"`
	Attachments       []string                   `json:"attachments"`
	CreatedAt         time.Time                  `json:"created_at"`
	UpdatedAt         time.Time                  `json:"updated_at"`
	SubmittedAt       *time.Time                 `json:"submitted_at,omitempty"`
	DecidedAt         *time.Time                 `json:"decided_at,omitempty"`
	PSO               *psoRefView                `json:"pso,omitempty"`
}

func patientExam(e exam.Exam) patientExamView {
	v := patientExamView{
		ID: e.ID, Status: e.Status, Outcome: e.Outcome, State: e.State, Treatments: e.Treatments,
		Modality: e.Modality, ModalitiesAllowed: e.ModalitiesAllowed, Patient: e.Patient,
		Answers: nonNilMap(e.Answers), Consents: e.Consents, Attachments: nonNil(e.Attachments),
		CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt, SubmittedAt: e.SubmittedAt, DecidedAt: e.DecidedAt,
		PSO: psoRef(e.PSO),
	}
	if e.Decision != nil {
		v.Reason = e.Decision.Reason
	}
	return v
}

// providerExamView is the full exam for the provider holding it.
type providerExamView struct {
	ID          string                     `json:"id"`
	ClinicID    string                     `json:"clinic_id"`
	Status      exam.Status                `json:"status"`
	Outcome     exam.Outcome               `json:"outcome,omitempty"`
	ProviderID  string                     `json:"provider_id,omitempty"`
	State       string                     `json:"state"`
	Treatments  []string                   `json:"treatments"`
	Modality    string                     `json:"modality"`
	Patient     exam.Patient               `json:"patient"`
	Flags       []questionnaire.Flag       `json:"flags"`
	Answers     map[string]json.RawMessage `json:"answers"`
	Consents    exam.Consents              `json:"consents"`
	Attachments []exam.Attachment          `json:"attachments"`
	Decision    *exam.Decision             `json:"decision,omitempty"`
	PSO         *psoRefView                `json:"pso,omitempty"`
	SubmittedAt *time.Time                 `json:"submitted_at,omitempty"`
	QueuedAt    *time.Time                 `json:"queued_at,omitempty"`
	ClaimedAt   *time.Time                 `json:"claimed_at,omitempty"`
	DecidedAt   *time.Time                 `json:"decided_at,omitempty"`
}

func providerExam(e exam.Exam, atts []exam.Attachment) providerExamView {
	return providerExamView{
		ID: e.ID, ClinicID: e.ClinicID, Status: e.Status, Outcome: e.Outcome, ProviderID: e.ProviderID,
		State: e.State, Treatments: e.Treatments, Modality: e.Modality, Patient: e.Patient,
		Flags: nonNil(e.Flags), Answers: nonNilMap(e.Answers), Consents: e.Consents, Attachments: nonNil(atts),
		Decision: e.Decision, PSO: psoRef(e.PSO),
		SubmittedAt: e.SubmittedAt, QueuedAt: e.QueuedAt, ClaimedAt: e.ClaimedAt, DecidedAt: e.DecidedAt,
	}
}

// clinicExamView is an exam as its clinic sees it: identity, progress,
// outcome and reasons, not the medical answers.
type clinicExamView struct {
	ID          string       `json:"id"`
	Status      exam.Status  `json:"status"`
	Outcome     exam.Outcome `json:"outcome,omitempty"`
	Reason      string       `json:"reason,omitempty"`
	Patient     exam.Patient `json:"patient"`
	State       string       `json:"state"`
	Treatments  []string     `json:"treatments"`
	Modality    string       `json:"modality"`
	ProviderID  string       `json:"provider_id,omitempty"`
	CreatedAt   time.Time    `json:"created_at"`
	SubmittedAt *time.Time   `json:"submitted_at,omitempty"`
	DecidedAt   *time.Time   `json:"decided_at,omitempty"`
	PSO         *psoRefView  `json:"pso,omitempty"`
}

func clinicExam(e exam.Exam) clinicExamView {
	v := clinicExamView{
		ID: e.ID, Status: e.Status, Outcome: e.Outcome, Patient: e.Patient, State: e.State,
		Treatments: e.Treatments, Modality: e.Modality, ProviderID: e.ProviderID,
		CreatedAt: e.CreatedAt, SubmittedAt: e.SubmittedAt, DecidedAt: e.DecidedAt, PSO: psoRef(e.PSO),
	}
	if e.Decision != nil {
		v.Reason = e.Decision.Reason
	}
	return v
}

func psoRef(r *exam.PSORef) *psoRefView {
	if r == nil {
		return nil
	}
	return &psoRefView{ID: r.ID, ValidUntil: r.ValidUntil}
}

// psoView is a signed PSO's index record.
type psoView struct {
	ID          string    `json:"id"`
	ExamID      string    `json:"exam_id"`
	JWS         string    `json:"jws"`
	SHA256      string    `json:"sha256"`
	KeyID       string    `json:"kid"`
	IssuedAt    time.Time `json:"issued_at"`
	ValidUntil  string    `json:"valid_until"`
	RetainUntil time.Time `json:"retain_until"`
	VerifyURL   string    `json:"verify_url,omitempty"`
}

func (a *api) psoView(r pso.Record) psoView {
	v := psoView{ID: r.ID, ExamID: r.ExamID, JWS: r.JWS, SHA256: r.SHA256, KeyID: r.KeyID, IssuedAt: r.IssuedAt, ValidUntil: r.ValidUntil, RetainUntil: r.RetainUntil}
	if a.VerifyBaseURL != "" {
		v.VerifyURL = a.VerifyBaseURL + r.ID
	}
	return v
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func nonNilMap[K comparable, V any](m map[K]V) map[K]V {
	if m == nil {
		return map[K]V{}
	}
	return m
}
