package httpapi

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/goodfaith/goodfaith/internal/audit"
	"github.com/goodfaith/goodfaith/internal/auth"
	"github.com/goodfaith/goodfaith/internal/billing"
	"github.com/goodfaith/goodfaith/internal/fault"
)

// Credits (issue 5): a medical director, today the only admin role over a
// clinic, credits the clinic with a reason. The clinic itself cannot: a
// credit is money the service gives back, not something its customer
// grants itself. A clinic the director does not direct answers 404
// (director authenticator, director.go).

// creditRoutes mounts the director's credit route (called from
// clinicRoutes).
func (a *api) creditRoutes(mux *http.ServeMux) {
	if a.Oversight == nil {
		return // no directors without oversight
	}
	a.handle(mux, "POST /v1/director/clinics/{clinic}/credits", a.director, a.dirCredit, idempotent)
}

type creditInput struct {
	ExamID      string `json:"exam_id"`
	AmountCents int64  `json:"amount_cents"`
	Reason      string `json:"reason"`
}

func (a *api) dirCredit(c *call) (reply, error) {
	var in creditInput
	if err := decodeStrict(c.body, &in); err != nil {
		return reply{}, err
	}
	if in.ExamID != "" {
		// Another clinic's exam is no exam of this clinic: the same answer.
		if _, err := a.Exams.ForClinic(c.r.Context(), c.clinic.ID, in.ExamID); err != nil {
			if errors.Is(err, fault.ErrNotFound) {
				return reply{}, fault.Invalid("exam_not_found", "exam_id", "no such exam of this clinic")
			}
			return reply{}, err
		}
	}
	// The audit record commits with the credit (billing.CreditInput.Audit).
	auditID, at := a.IDs.New("aud"), a.Clock.Now().UTC()
	line, err := a.Billing.Credit(c.r.Context(), c.clinic, billing.CreditInput{
		ExamID: in.ExamID, AmountCents: in.AmountCents, Reason: in.Reason, By: c.principal.DirectorID,
		Audit: func(line billing.Line) audit.Record {
			subject := "CLINIC#" + c.clinic.ID
			if line.ExamID != "" {
				subject = line.ExamID
			}
			return audit.Record{ID: auditID, At: at, Actor: c.principal.DirectorID, Role: string(auth.RoleDirector),
				Action: "billing.credit", ExamID: subject,
				Reason: line.ID + " of " + strconv.FormatInt(-line.AmountCents, 10) + " cents to " + c.clinic.ID + " in " + line.Month + ": " + line.Reason}
		},
	}, a.IDs)
	if err != nil {
		return reply{}, err
	}
	return created(map[string]any{"adjustment": map[string]any{
		"id": line.ID, "kind": line.Kind, "clinic_id": line.ClinicID, "exam_id": line.ExamID, "at": line.At, "month": line.Month,
		"amount_cents": line.AmountCents, "currency": line.Currency, "reason": line.Reason, "by": line.By,
	}}), nil
}
