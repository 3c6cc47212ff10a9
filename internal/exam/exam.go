package exam

import (
	"encoding/json"
	"time"

	"github.com/goodfaith/goodfaith/internal/questionnaire"
)

// Status is where an exam is in its lifecycle.
type Status string

// Statuses.
const (
	Draft     Status = "draft"
	Submitted Status = "submitted"
	Queued    Status = "queued"
	Claimed   Status = "claimed"
	InConsult Status = "in_consult"
	Decided   Status = "decided"
	Cancelled Status = "cancelled"
	Expired   Status = "expired"
)

// Outcome is a decided exam's result.
type Outcome string

// Outcomes. NotApplicable (patient no-show, connection failure) is decided
// but, like cancelled and expired exams, never billed.
const (
	Approved      Outcome = "approved"
	Deferred      Outcome = "deferred"
	Denied        Outcome = "denied"
	NotApplicable Outcome = "not_applicable"
)

// Billable reports whether a decided outcome is charged to the clinic.
func (o Outcome) Billable() bool { return o == Approved || o == Deferred || o == Denied }

// Patient is who the exam is for, as they entered it.
type Patient struct {
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	DOB       string `json:"dob"`
	Email     string `json:"email"`
	Phone     string `json:"phone,omitempty"`
	State     string `json:"state"`
}

// Exam is the record of one good-faith exam.
type Exam struct {
	ID                string                     `json:"id"`
	ClinicID          string                     `json:"clinic_id"`
	Status            Status                     `json:"status"`
	Outcome           Outcome                    `json:"outcome,omitempty"`
	Patient           Patient                    `json:"patient"`
	State             string                     `json:"state"`
	Treatments        []string                   `json:"treatments"`
	Modality          string                     `json:"modality"`
	ModalitiesAllowed []string                   `json:"modalities_allowed"`
	Answers           map[string]json.RawMessage `json:"answers,omitempty"`
	Consents          Consents                   `json:"consents"`
	Attachments       []string                   `json:"attachments,omitempty"`
	Flags             []questionnaire.Flag       `json:"flags,omitempty"`
	ProviderID        string                     `json:"provider_id,omitempty"`
	Decision          *Decision                  `json:"decision,omitempty"`
	PSO               *PSORef                    `json:"pso,omitempty"`
	CreatedAt         time.Time                  `json:"created_at"`
	UpdatedAt         time.Time                  `json:"updated_at"`
	SubmittedAt       *time.Time                 `json:"submitted_at,omitempty"`
	QueuedAt          *time.Time                 `json:"queued_at,omitempty"`
	ClaimedAt         *time.Time                 `json:"claimed_at,omitempty"`
	DecidedAt         *time.Time                 `json:"decided_at,omitempty"`
	SLA               *SLA                       `json:"sla,omitempty"`   // sla.go
	Lease             *Lease                     `json:"lease,omitempty"` // leases.go
	History           []Transition               `json:"history"`

	// version is the stored item's version, for compare-and-set.
	version int64
}

// Consents the patient gave.
type Consents struct {
	Telehealth bool `json:"telehealth"`
	Privacy    bool `json:"privacy"`
}

// Transition is one step of the lifecycle, kept on the record.
type Transition struct {
	From  Status    `json:"from"`
	To    Status    `json:"to"`
	At    time.Time `json:"at"`
	Actor string    `json:"actor"`
}

// Decision is the provider's decision.
type Decision struct {
	Outcome   Outcome `json:"outcome"`
	Notes     string  `json:"notes,omitempty"`
	Reason    string  `json:"reason,omitempty"`
	Orders    []Order `json:"orders,omitempty"`
	Attested  bool    `json:"attested"`
	DecidedBy string  `json:"decided_by"`
}

// Order is one treatment the provider ordered.
type Order struct {
	Treatment string   `json:"treatment"`
	Product   string   `json:"product"`
	Dose      string   `json:"dose"`
	Route     string   `json:"route"`
	Areas     []string `json:"areas,omitempty"`
	Frequency string   `json:"frequency,omitempty"`
	Quantity  string   `json:"quantity,omitempty"`
	Refills   int      `json:"refills"`
	ValidDays int      `json:"valid_days,omitempty"`
}

// PSORef points from an exam to its signed order.
type PSORef struct {
	ID         string `json:"id"`
	ValidUntil string `json:"valid_until"`
}
