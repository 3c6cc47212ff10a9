package httpapi

import (
	"net/http"

	"github.com/goodfaith/goodfaith/internal/exam"
	"github.com/goodfaith/goodfaith/internal/invite"
)

// inviteRoutes let a clinic invite a patient to an exam (issue 5).
func (a *api) inviteRoutes(mux *http.ServeMux) {
	a.handle(mux, "POST /v1/clinic/invites", a.clinicKey, a.createInvite, idempotent)
	a.handle(mux, "GET /v1/clinic/invites/{id}", a.clinicKey, a.getInvite)
	a.handle(mux, "POST /v1/clinic/invites/{id}/resend", a.clinicKey, a.resendInvite, idempotent)
}

func inviteView(inv invite.Invite) map[string]any {
	return map[string]any{"exam_id": inv.ExamID, "url": inv.URL, "expires_at": inv.ExpiresAt, "notifications": inv.Notifications}
}

func (a *api) createInvite(c *call) (reply, error) {
	var in exam.CreateInput
	if err := decodeStrict(c.body, &in); err != nil {
		return reply{}, err
	}
	inv, err := a.Invites.Create(c.r.Context(), c.clinic, in)
	if err != nil {
		return reply{}, err
	}
	return created(inviteView(inv)), nil
}

func (a *api) getInvite(c *call) (reply, error) {
	inv, err := a.Invites.Get(c.r.Context(), c.clinic.ID, c.r.PathValue("id"))
	if err != nil {
		return reply{}, err
	}
	return ok(inviteView(inv)), nil
}

func (a *api) resendInvite(c *call) (reply, error) {
	inv, err := a.Invites.Resend(c.r.Context(), c.clinic, c.r.PathValue("id"))
	if err != nil {
		return reply{}, err
	}
	return ok(inviteView(inv)), nil
}
