package httpapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/goodfaith/goodfaith/internal/audit"
	"github.com/goodfaith/goodfaith/internal/billing"
	"github.com/goodfaith/goodfaith/internal/fault"
)

// billingRoutes are the clinic's usage and statements (issue 5).
func (a *api) billingRoutes(mux *http.ServeMux) {
	a.handle(mux, "GET /v1/clinic/usage", a.clinicKey, a.clinicUsage)
	a.handle(mux, "GET /v1/clinic/statements/{file}", a.clinicKey, a.clinicStatementCSV)
}

// statement reads the clinic's month, auditing the read: usage lines name
// exams and their outcomes.
func (a *api) statement(c *call, month string) (billing.Statement, error) {
	if month == "" {
		month = billing.MonthOf(a.Clock.Now(), billing.Location(c.clinic.Timezone)).String()
	}
	m, err := billing.ParseMonth(month)
	if err != nil {
		return billing.Statement{}, fault.Invalid("invalid_month", "month", "month must be YYYY-MM")
	}
	st, err := a.Billing.Statement(c.r.Context(), c.clinic, m)
	if err != nil {
		return billing.Statement{}, err
	}
	rec := audit.Record{ID: a.IDs.New("aud"), At: a.Clock.Now().UTC(), Actor: c.clinic.ID, Role: "clinic", Action: "billing.statement.read", ExamID: "CLINIC#" + c.clinic.ID, Reason: "month " + m.String()}
	return st, audit.Append(c.r.Context(), a.Store, rec)
}

type usageItem struct {
	ExamID      string    `json:"exam_id"`
	DecidedAt   time.Time `json:"decided_at"`
	Outcome     string    `json:"outcome"`
	AmountCents int64     `json:"amount_cents"`
	// PostedMonth differs from the month of DecidedAt when the exam reached
	// the ledger after its month closed.
	PostedMonth string `json:"posted_month"`
	Late        bool   `json:"late"`
}

type adjustment struct {
	ID          string    `json:"id"`
	ExamID      string    `json:"exam_id,omitempty"`
	At          time.Time `json:"at"`
	AmountCents int64     `json:"amount_cents"`
	Reason      string    `json:"reason"`
}

func (a *api) clinicUsage(c *call) (reply, error) {
	st, err := a.statement(c, c.r.URL.Query().Get("month"))
	if err != nil {
		return reply{}, err
	}
	items := []usageItem{}
	for _, l := range st.Usage() {
		items = append(items, usageItem{ExamID: l.ExamID, DecidedAt: l.At, Outcome: l.Outcome, AmountCents: l.AmountCents, PostedMonth: l.Month, Late: l.Late()})
	}
	adjs := []adjustment{}
	for _, l := range st.Credits() {
		adjs = append(adjs, adjustment{ID: l.ID, ExamID: l.ExamID, At: l.At, AmountCents: l.AmountCents, Reason: l.Reason})
	}
	return ok(map[string]any{
		"month": st.Month.String(), "status": st.Status, "count": st.UsageCount, "amount_cents": st.AmountCents,
		"currency": billing.Currency, "items": items, "adjustments": adjs,
	}), nil
}

func (a *api) clinicStatementCSV(c *call) (reply, error) {
	month, isCSV := strings.CutSuffix(c.r.PathValue("file"), ".csv")
	if !isCSV {
		return reply{}, errNotFound
	}
	if _, err := billing.ParseMonth(month); err != nil {
		return reply{}, errNotFound // not a statement's name
	}
	st, err := a.statement(c, month)
	if err != nil {
		return reply{}, err
	}
	return reply{status: http.StatusOK, contentType: "text/csv; charset=utf-8; header=present", raw: st.CSV()}, nil
}
