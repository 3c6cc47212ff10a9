package exam

import (
	"context"
	"time"

	"github.com/goodfaith/goodfaith/internal/pso"
)

// Oversight is the medical director's hold on the exam use cases
// (implemented by package oversight; nil means no oversight checks).
//
// CheckTreatments runs when an exam is created, submitted and approved:
// it returns a fault.Invalid naming the treatment when the clinic may not
// offer one now (for example its emergency-readiness attestation is
// missing, expired or revoked). For StaffReader the error carries the
// reason and the items to attest; for PatientReader only a generic sentence,
// because a director's free-text revoke reason may name a patient and the
// clinic's readiness gaps are not the patient's business. ReviewOrders runs when a provider approves, after the orders
// passed validateOrders and before anything is written: it refuses orders
// naming an unknown, disabled or unapproved product (fault.Invalid on
// orders[i].product), and returns, per order, the catalogue product and
// its FDA status, and the signed protocol versions in force now with any
// deviation, which the PSO records.
type Oversight interface {
	CheckTreatments(ctx context.Context, clinicID string, treatments []string, now time.Time, reader Reader) error
	ReviewOrders(ctx context.Context, clinicID string, orders []Order, now time.Time) (OrderReview, error)
}

// Reader is who reads an Oversight refusal. The zero value is the patient,
// so a forgotten argument cannot leak staff detail.
type Reader int

const (
	PatientReader Reader = iota // widget and patient routes: generic message
	StaffReader                 // provider, clinic and director: reason and missing items
)

// OrderReview is what Oversight.ReviewOrders found.
type OrderReview struct {
	Products  []ReviewedProduct // one per order, in order
	Protocols []pso.ProtocolRef
}

// ReviewedProduct is an order's catalogue product.
type ReviewedProduct struct {
	ID        string
	FDAStatus string
}

// checkOversight asks Oversight whether the exam's treatments may still be
// offered at now; nil when there is no oversight.
func (s *Service) checkOversight(ctx context.Context, e Exam, now time.Time, reader Reader) error {
	if s.Oversight == nil {
		return nil
	}
	return s.Oversight.CheckTreatments(ctx, e.ClinicID, e.Treatments, now, reader)
}

// apply records the review on the PSO document.
func (r OrderReview) apply(doc *pso.Document) {
	for i := range doc.Orders {
		if i < len(r.Products) {
			doc.Orders[i].ProductID, doc.Orders[i].FDAStatus = r.Products[i].ID, r.Products[i].FDAStatus
		}
	}
	doc.Protocols = r.Protocols
}
