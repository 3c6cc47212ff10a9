package pso

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/goodfaith/goodfaith/internal/audit"
	"github.com/goodfaith/goodfaith/internal/blob"
	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/fault"
	"github.com/goodfaith/goodfaith/internal/ids"
	"github.com/goodfaith/goodfaith/internal/store"
)

var (
	errNotFound       = fault.NotFound("pso_not_found", "no such PSO")
	errReasonRequired = fault.Invalid("reason_required", "reason", "say why the order is revoked")
	errReasonTooLong  = fault.Invalid("reason_too_long", "reason", fmt.Sprintf("the reason must be valid text of at most %d bytes", MaxRevocationReason))
	errAlreadyRevoked = fault.Conflict("already_revoked", "this PSO is already revoked")
)

// DownloadTTL is how long a presigned download link of a PSO object lives.
const DownloadTTL = 5 * time.Minute

// Registry serves signed PSOs to their clinic and their status to anyone.
// Every read or write of an order is audited; other clinics' orders do not
// exist for a caller.
type Registry struct {
	Store store.Store
	Blobs blob.Store
	Clock clock.Clock
	IDs   ids.Generator
}

// Audit actions of the registry.
const (
	ActionRead     = "pso.read"
	ActionPDFRead  = "pso.pdf.read"
	ActionRevoke   = "pso.revoke"
	ActionDownload = "pso.download_links"
)

func (r Registry) auditRecord(actor, role, action, examID, reason string) audit.Record {
	return audit.Record{ID: r.IDs.New("aud"), At: r.Clock.Now().UTC(), Actor: actor, Role: role, Action: action, ExamID: examID, Reason: reason}
}

// owned reads a PSO of the clinic.
func (r Registry) owned(ctx context.Context, clinicID, id string) (Record, error) {
	rec, err := Get(ctx, r.Store, id)
	if err != nil {
		return Record{}, err
	}
	if rec.ClinicID != clinicID {
		return Record{}, errNotFound
	}
	return rec, nil
}

// Downloads are short-lived links to a PSO's objects.
type Downloads struct {
	JWS blob.PresignedRequest
	PDF blob.PresignedRequest
}

// Links returns presigned download links of the clinic's PSO, audited.
func (r Registry) Links(ctx context.Context, clinicID, id string) (Downloads, error) {
	rec, err := r.owned(ctx, clinicID, id)
	if err != nil {
		return Downloads{}, err
	}
	var d Downloads
	if d.JWS, err = r.Blobs.PresignGet(ctx, rec.ObjectKey, DownloadTTL); err != nil {
		return Downloads{}, err
	}
	if d.PDF, err = r.Blobs.PresignGet(ctx, rec.PDFKey, DownloadTTL); err != nil {
		return Downloads{}, err
	}
	return d, audit.Append(ctx, r.Store, r.auditRecord(clinicID, "clinic", ActionDownload, rec.ExamID, ""))
}

// PDF returns the clinic's PSO as its stored PDF, audited. The bytes are
// checked against the digest in the index.
func (r Registry) PDF(ctx context.Context, clinicID, id string) ([]byte, Record, error) {
	rec, err := r.owned(ctx, clinicID, id)
	if err != nil {
		return nil, Record{}, err
	}
	body, _, err := r.Blobs.Get(ctx, rec.PDFKey)
	if err != nil {
		return nil, Record{}, fmt.Errorf("pso: read PDF of %s: %w", id, err)
	}
	if sha256Hex(body) != rec.PDFSHA256 {
		return nil, Record{}, fmt.Errorf("pso: the PDF of %s does not match its indexed digest", id)
	}
	return body, rec, audit.Append(ctx, r.Store, r.auditRecord(clinicID, "clinic", ActionPDFRead, rec.ExamID, ""))
}

// Revoke revokes the clinic's PSO for reason, recording who did it, in one
// commit with its audit record. A second revocation is a conflict.
//
// Until the medical-director role exists (issue 11), the clinic's secret
// key is the authority: actor is the clinic, role "clinic".
func (r Registry) Revoke(ctx context.Context, clinicID, id, actor, role, reason string) (Revocation, error) {
	reason, err := checkReason(reason)
	if err != nil {
		return Revocation{}, err
	}
	rec, err := r.owned(ctx, clinicID, id)
	if err != nil {
		return Revocation{}, err
	}
	rev := Revocation{PSOID: rec.ID, ExamID: rec.ExamID, ClinicID: rec.ClinicID, RevokedAt: r.Clock.Now().UTC(), RevokedBy: actor, Role: role, Reason: reason}
	op, err := revocationOp(rev)
	if err != nil {
		return Revocation{}, err
	}
	// The PSO's index record must still be there, unchanged.
	k := key(rec.ID)
	ops := []store.Op{op, {Check: &k, Cond: store.IfExists}, r.auditRecord(actor, role, ActionRevoke, rec.ExamID, reason).Op()}
	if err := r.Store.Transact(ctx, ops...); err != nil {
		if errors.Is(err, store.ErrConditionFailed) {
			return Revocation{}, errAlreadyRevoked
		}
		return Revocation{}, err
	}
	return rev, nil
}

// Status is what anyone may learn of a PSO by its id (printed on the PDF
// and in its QR code): whether it stands, and the digest that ties a copy
// to it. It carries nothing about the patient.
type Status struct {
	ID         string     `json:"id"`
	Status     string     `json:"status"` // valid | expired | revoked
	IssuedAt   time.Time  `json:"issued_at"`
	ValidUntil string     `json:"valid_until"`
	SHA256     string     `json:"sha256"`     // of the JWS
	PDFSHA256  string     `json:"pdf_sha256"` // of the PDF
	KeyID      string     `json:"kid"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// StatusOf returns the public status of a PSO.
func (r Registry) StatusOf(ctx context.Context, id string) (Status, error) {
	rec, err := Get(ctx, r.Store, id)
	if err != nil {
		return Status{}, err
	}
	rev, err := GetRevocation(ctx, r.Store, id)
	if err != nil {
		return Status{}, err
	}
	st := Status{ID: rec.ID, Status: "valid", IssuedAt: rec.IssuedAt, ValidUntil: rec.ValidUntil, SHA256: rec.SHA256, PDFSHA256: rec.PDFSHA256, KeyID: rec.KeyID}
	if until, err := time.Parse(time.DateOnly, rec.ValidUntil); err == nil && r.Clock.Now().UTC().Truncate(24*time.Hour).After(until) {
		st.Status = "expired"
	}
	if rev != nil {
		st.Status, st.RevokedAt = "revoked", &rev.RevokedAt
	}
	return st, nil
}
