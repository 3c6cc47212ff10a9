package exam

import (
	"encoding/json"
	"fmt"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/goodfaith/goodfaith/internal/fault"
)

// CreateInput is POST /v1/exams.
type CreateInput struct {
	Patient    Patient  `json:"patient"`
	Treatments []string `json:"treatments"`
	Modality   string   `json:"modality"`
}

// IntakeInput is PUT /v1/exams/{id}/intake. Nil fields are left as they are.
type IntakeInput struct {
	Answers     map[string]json.RawMessage `json:"answers"`
	Consents    *Consents                  `json:"consents"`
	Modality    string                     `json:"modality"`
	Attachments []string                   `json:"attachments"`
}

// AttachmentInput is POST /v1/exams/{id}/attachments.
type AttachmentInput struct {
	Kind        string `json:"kind"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
}

// DecisionInput is POST /v1/provider/exams/{id}/decision.
type DecisionInput struct {
	Outcome     string       `json:"outcome"`
	Notes       string       `json:"notes"`
	Reason      string       `json:"reason"`
	Orders      []OrderInput `json:"orders"`
	Attestation struct {
		Accepted bool `json:"accepted"`
	} `json:"attestation"`
}

// OrderInput is one order as a provider sends it. Quantity may be a number
// or a string ("50 units"), areas a list or one string.
type OrderInput struct {
	Treatment string     `json:"treatment"`
	Product   string     `json:"product"`
	Dose      flexString `json:"dose"`
	Route     string     `json:"route"`
	Areas     flexList   `json:"areas"`
	Frequency string     `json:"frequency"`
	Quantity  flexString `json:"quantity"`
	Refills   int        `json:"refills"`
	ValidDays int        `json:"valid_days"`
}

// flexString accepts a JSON string or number.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*f = flexString(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("want a string or a number")
	}
	*f = flexString(n.String())
	return nil
}

// flexList accepts a JSON list of strings or one string.
type flexList []string

func (f *flexList) UnmarshalJSON(b []byte) error {
	var list []string
	if err := json.Unmarshal(b, &list); err == nil {
		*f = list
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a list of strings or a string")
	}
	*f = flexList{s}
	return nil
}

// Limits on patient-entered text.
const (
	maxNameLen  = 100
	maxNotesLen = 10_000
	maxFieldLen = 500
)

func checkText(field, s string, required bool, limit int) error {
	s = strings.TrimSpace(s)
	if s == "" {
		if required {
			return fault.Invalid("required", field, "this field is required")
		}
		return nil
	}
	if len(s) > limit {
		return fault.Invalid("too_long", field, fmt.Sprintf("at most %d characters", limit))
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return fault.Invalid("invalid_characters", field, "control characters are not allowed")
		}
	}
	return nil
}

// validatePatient checks identity fields. Patients must be adults: a minor's
// exam needs a guardian's consent, which this flow does not collect.
func validatePatient(p Patient, now time.Time) error {
	if err := checkText("patient.first_name", p.FirstName, true, maxNameLen); err != nil {
		return err
	}
	if err := checkText("patient.last_name", p.LastName, true, maxNameLen); err != nil {
		return err
	}
	dob, err := time.Parse(time.DateOnly, p.DOB)
	if err != nil {
		return fault.Invalid("invalid_date", "patient.dob", "date of birth must be a real date, YYYY-MM-DD")
	}
	if dob.After(now) || dob.Before(now.AddDate(-120, 0, 0)) {
		return fault.Invalid("invalid_date", "patient.dob", "date of birth is out of range")
	}
	if dob.After(now.AddDate(-18, 0, 0)) {
		return fault.Invalid("patient_minor", "patient.dob", "the patient must be 18 or older")
	}
	if p.Email == "" {
		return fault.Invalid("required", "patient.email", "an email address is required to send the result")
	}
	if a, err := mail.ParseAddress(p.Email); err != nil || a.Address != p.Email || len(p.Email) > 254 {
		return fault.Invalid("invalid_email", "patient.email", "not an email address")
	}
	if p.Phone != "" {
		digits := 0
		for _, r := range p.Phone {
			switch {
			case r >= '0' && r <= '9':
				digits++
			case strings.ContainsRune("+-() .", r):
			default:
				return fault.Invalid("invalid_phone", "patient.phone", "not a phone number")
			}
		}
		if digits < 7 || digits > 15 {
			return fault.Invalid("invalid_phone", "patient.phone", "not a phone number")
		}
	}
	return nil
}

// validateOrders checks an approval's orders against the exam.
func validateOrders(orders []OrderInput, treatments []string, maxValidDays int) ([]Order, error) {
	if len(orders) == 0 {
		return nil, fault.Invalid("orders_required", "orders", "an approval needs at least one order")
	}
	if len(orders) > 20 {
		return nil, fault.Invalid("too_many", "orders", "at most 20 orders")
	}
	out := make([]Order, 0, len(orders))
	for i, o := range orders {
		at := "orders[" + strconv.Itoa(i) + "]."
		if !slices.Contains(treatments, o.Treatment) {
			return nil, fault.Invalid("treatment_not_in_exam", at+"treatment", "order a treatment the patient asked for")
		}
		for _, f := range []struct {
			name, value string
			required    bool
		}{{"product", o.Product, true}, {"dose", string(o.Dose), true}, {"route", o.Route, true}, {"frequency", o.Frequency, false}, {"quantity", string(o.Quantity), false}} {
			if err := checkText(at+f.name, f.value, f.required, maxFieldLen); err != nil {
				return nil, err
			}
		}
		for j, a := range o.Areas {
			if err := checkText(at+"areas["+strconv.Itoa(j)+"]", a, true, maxFieldLen); err != nil {
				return nil, err
			}
		}
		if o.Refills < 0 || o.Refills > 11 {
			return nil, fault.Invalid("out_of_range", at+"refills", "refills must be 0 to 11")
		}
		days := o.ValidDays
		if days == 0 {
			days = maxValidDays
		}
		if days < 1 || days > maxValidDays {
			return nil, fault.Invalid("out_of_range", at+"valid_days", fmt.Sprintf("valid_days must be 1 to %d here", maxValidDays))
		}
		out = append(out, Order{
			Treatment: o.Treatment, Product: strings.TrimSpace(o.Product), Dose: strings.TrimSpace(string(o.Dose)),
			Route: strings.TrimSpace(o.Route), Areas: o.Areas, Frequency: o.Frequency, Quantity: string(o.Quantity),
			Refills: o.Refills, ValidDays: days,
		})
	}
	return out, nil
}
