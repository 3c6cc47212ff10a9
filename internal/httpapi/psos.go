package httpapi

import (
	"errors"
	"net/http"
	"time"

	"github.com/goodfaith/goodfaith/internal/auth"
	"github.com/goodfaith/goodfaith/internal/blob"
	"github.com/goodfaith/goodfaith/internal/fault"
	"github.com/goodfaith/goodfaith/internal/pso"
	"github.com/goodfaith/goodfaith/internal/store"
)

// PSO routes beyond the contract's core: the clinic's PDF and revocation,
// and what anyone may learn of an order by its id (the link and QR code
// printed on the PDF) or from the revocation list. Registered with one line
// each in clinicRoutes and publicRoutes.

func (a *api) psoRegistry() pso.Registry {
	return pso.Registry{Store: a.Exams.Store, Blobs: a.Exams.Blobs, Clock: a.Clock, IDs: a.IDs}
}

// revocationView is a revocation as the clinic sees it.
type revocationView struct {
	RevokedAt time.Time `json:"revoked_at"`
	RevokedBy string    `json:"revoked_by"`
	Role      string    `json:"role"`
	Reason    string    `json:"reason"`
}

func revocationOf(r *pso.Revocation) *revocationView {
	if r == nil {
		return nil
	}
	return &revocationView{RevokedAt: r.RevokedAt, RevokedBy: r.RevokedBy, Role: r.Role, Reason: r.Reason}
}

// downloadView is a short-lived link to one stored object.
type downloadView struct {
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}

func downloadOf(p blob.PresignedRequest) downloadView {
	return downloadView{URL: p.URL, ExpiresAt: p.ExpiresAt}
}

// clinicPSOView is GET /v1/clinic/psos/{id}: the index record, its
// revocation, and presigned links to the two write-once objects.
type clinicPSOView struct {
	psoView
	DocumentSHA256 string                  `json:"document_sha256"`
	PDFSHA256      string                  `json:"pdf_sha256"`
	Revoked        bool                    `json:"revoked"`
	Revocation     *revocationView         `json:"revocation,omitempty"`
	Downloads      map[string]downloadView `json:"downloads"`
}

func (a *api) clinicGetPSO(c *call) (reply, error) {
	ctx := c.r.Context()
	rec, err := a.Exams.PSOForClinic(ctx, c.clinic.ID, c.r.PathValue("id"))
	if err != nil {
		return reply{}, err
	}
	reg := a.psoRegistry()
	rev, err := pso.GetRevocation(ctx, reg.Store, rec.ID)
	if err != nil {
		return reply{}, err
	}
	links, err := reg.Links(ctx, c.clinic.ID, rec.ID)
	if err != nil {
		return reply{}, err
	}
	return ok(map[string]any{"pso": clinicPSOView{
		psoView: a.psoView(rec), DocumentSHA256: rec.DocSHA256, PDFSHA256: rec.PDFSHA256,
		Revoked: rev != nil, Revocation: revocationOf(rev),
		Downloads: map[string]downloadView{"jws": downloadOf(links.JWS), "pdf": downloadOf(links.PDF)},
	}}), nil
}

func (a *api) clinicPSOPDF(c *call) (reply, error) {
	body, _, err := a.psoRegistry().PDF(c.r.Context(), c.clinic.ID, c.r.PathValue("id"))
	if err != nil {
		return reply{}, err
	}
	return reply{status: http.StatusOK, contentType: "application/pdf", raw: body}, nil
}

func (a *api) clinicRevokePSO(c *call) (reply, error) {
	var in struct {
		Reason string `json:"reason"`
	}
	if err := decodeStrict(c.body, &in); err != nil {
		return reply{}, err
	}
	// The clinic's secret key stands in for the medical director until
	// that role exists (issue 11).
	rev, err := a.psoRegistry().Revoke(c.r.Context(), c.clinic.ID, c.r.PathValue("id"), c.clinic.ID, string(auth.RoleClinic), in.Reason)
	if err != nil {
		return reply{}, err
	}
	return ok(map[string]any{"pso": map[string]any{"id": rev.PSOID, "exam_id": rev.ExamID, "revoked": true, "revocation": revocationOf(&rev)}}), nil
}

// publicPSOStatus is GET /v1/psos/{id}: whether an order stands, and the
// digests that tie a copy to it; nothing about the patient.
func (a *api) publicPSOStatus(c *call) (reply, error) {
	st, err := a.psoRegistry().StatusOf(c.r.Context(), c.r.PathValue("id"))
	if err != nil {
		return reply{}, err
	}
	return ok(map[string]any{"pso": st}), nil
}

// publicRevocations is GET /v1/psos/revocations: every revoked order's id
// and time, oldest first, paged; what the offline verifier checks against.
func (a *api) publicRevocations(c *call) (reply, error) {
	list, next, err := pso.ListRevocations(c.r.Context(), a.Exams.Store, c.r.URL.Query().Get("cursor"), store.MaxQueryLimit)
	if err != nil {
		if isInvalidCursor(err) {
			return reply{}, fault.Invalid("invalid_cursor", "cursor", "this cursor was not issued by this listing")
		}
		return reply{}, err
	}
	var cursor any
	if next != "" {
		cursor = next
	}
	return ok(map[string]any{"revoked": list.Revoked, "next_cursor": cursor}), nil
}

func isInvalidCursor(err error) bool { return errors.Is(err, store.ErrInvalidCursor) }

// verification is the body of POST /v1/psos/verify: the signature check,
// then the order's revocation, which only the index knows.
func (a *api) verification(c *call, jws string) (map[string]any, error) {
	v := pso.Verify(jws, a.Keyring.JWKS(), a.Clock.Now())
	if v.Doc.ID != "" {
		rev, err := pso.GetRevocation(c.r.Context(), a.Exams.Store, v.Doc.ID)
		if err != nil {
			return nil, err
		}
		v = v.Check(rev)
	}
	if !v.Valid {
		out := map[string]any{"valid": false, "reason": v.Reason}
		if v.Revocation != nil {
			out["revoked_at"] = v.Revocation.RevokedAt
			out["pso"] = map[string]any{"id": v.Doc.ID, "exam_id": v.Doc.ExamID, "clinic_id": v.Doc.Clinic.ID, "valid_until": v.Doc.ValidUntil}
		}
		return out, nil
	}
	d := v.Doc
	return map[string]any{"valid": true, "pso": map[string]any{
		"id": d.ID, "exam_id": d.ExamID, "clinic_id": d.Clinic.ID, "clinic": d.Clinic,
		"provider": d.Provider, "patient": d.Patient, "orders": d.Orders, "findings": d.Findings,
		"issued_at": d.IssuedAt, "valid_until": d.ValidUntil, "schema": d.Schema, "kid": v.KeyID,
		"revoked": false,
	}}, nil
}
