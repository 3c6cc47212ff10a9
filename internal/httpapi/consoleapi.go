package httpapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/goodfaith/goodfaith/internal/audit"
	"github.com/goodfaith/goodfaith/internal/exam"
	"github.com/goodfaith/goodfaith/internal/fault"
	"github.com/goodfaith/goodfaith/internal/pso"
)

// Provider routes the console needs beyond the contract's core (issue 8):
// the patient's prior orders at this clinic with the clinic's last order
// of each treatment (the prefill where the clinic has no signed protocol), and the
// PDF of a PSO the provider signed. Both answer only the provider holding
// (or, for a decided exam, having decided) the exam; anyone else gets 404.

func (a *api) consoleProviderRoutes(mux *http.ServeMux) {
	a.handle(mux, "GET /v1/provider/exams/{id}/history", a.provider, a.providerHistory)
	a.handle(mux, "GET /v1/provider/psos/{id}/pdf", a.provider, a.providerPSOPDF)
}

// maxHistoryScan bounds how many of the clinic's exams a history looks at.
const maxHistoryScan = 2000

type priorExamView struct {
	ExamID     string       `json:"exam_id"`
	Outcome    exam.Outcome `json:"outcome"`
	Reason     string       `json:"reason,omitempty"`
	Treatments []string     `json:"treatments"`
	DecidedAt  *time.Time   `json:"decided_at,omitempty"`
	Orders     []exam.Order `json:"orders"`
	PSO        *psoRefView  `json:"pso,omitempty"`
}

type lastOrderView struct {
	exam.Order
	ExamID    string     `json:"exam_id"`
	DecidedAt *time.Time `json:"decided_at,omitempty"`
}

func samePatient(a, b exam.Patient) bool {
	norm := func(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
	return norm(a.FirstName) == norm(b.FirstName) && norm(a.LastName) == norm(b.LastName) && a.DOB == b.DOB
}

// providerHistory is GET /v1/provider/exams/{id}/history: the decided
// exams of the same patient (legal name and date of birth) at the same
// clinic, newest first, each read audited; and for each treatment of this
// exam, the clinic's most recent approved order of it (any patient), which
// the console uses to prefill the order form.
func (a *api) providerHistory(c *call) (reply, error) {
	ctx := c.r.Context()
	me := c.principal.ProviderID
	e, _, err := a.Exams.ForProvider(ctx, me, c.r.PathValue("id")) // 404 unless held; audited
	if err != nil {
		return reply{}, err
	}
	prior := []priorExamView{}
	last := map[string]lastOrderView{}
	cursor, scanned := "", 0
	for scanned < maxHistoryScan {
		page, err := a.Exams.List(ctx, e.ClinicID, exam.Decided, cursor, 100)
		if err != nil {
			return reply{}, err
		}
		for _, p := range page.Items {
			scanned++
			if p.ID == e.ID || p.Decision == nil {
				continue
			}
			if p.Outcome == exam.Approved {
				for _, o := range p.Decision.Orders {
					if _, seen := last[o.Treatment]; !seen && contains(e.Treatments, o.Treatment) {
						last[o.Treatment] = lastOrderView{Order: o, ExamID: p.ID, DecidedAt: p.DecidedAt}
					}
				}
			}
			if !samePatient(p.Patient, e.Patient) {
				continue
			}
			if err := audit.Append(ctx, a.Store, audit.Record{ID: a.IDs.New("aud"), At: a.Clock.Now().UTC(), Actor: me, Role: exam.RoleProvider, Action: "exam.history.read", ExamID: p.ID, Reason: "prior orders shown in the review of " + e.ID}); err != nil {
				return reply{}, err
			}
			prior = append(prior, priorExamView{ExamID: p.ID, Outcome: p.Outcome, Reason: p.Decision.Reason, Treatments: p.Treatments, DecidedAt: p.DecidedAt, Orders: nonNil(p.Decision.Orders), PSO: psoRef(p.PSO)})
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	return ok(map[string]any{"prior": prior, "last_orders": last, "prefill_source": "clinic_last_order"}), nil
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// providerPSOPDF is GET /v1/provider/psos/{id}/pdf for the provider who
// signed it.
func (a *api) providerPSOPDF(c *call) (reply, error) {
	ctx := c.r.Context()
	rec, err := pso.Get(ctx, a.Store, c.r.PathValue("id"))
	if err != nil {
		return reply{}, err
	}
	e, _, err := a.Exams.ForProvider(ctx, c.principal.ProviderID, rec.ExamID)
	if err != nil || e.Decision == nil || e.Decision.DecidedBy != c.principal.ProviderID {
		return reply{}, fault.NotFound("pso_not_found", "no such PSO")
	}
	body, _, err := a.psoRegistry().PDF(ctx, rec.ClinicID, rec.ID)
	if err != nil {
		return reply{}, err
	}
	if err := audit.Append(ctx, a.Store, audit.Record{ID: a.IDs.New("aud"), At: a.Clock.Now().UTC(), Actor: c.principal.ProviderID, Role: exam.RoleProvider, Action: "pso.pdf.read", ExamID: rec.ExamID}); err != nil {
		return reply{}, err
	}
	return reply{status: http.StatusOK, contentType: "application/pdf", raw: body}, nil
}
