package httpapi

import (
	"net/http"

	"github.com/goodfaith/goodfaith/internal/exam"
)

func (a *api) clinicRoutes(mux *http.ServeMux) {
	a.handle(mux, "GET /v1/clinic/exams", a.clinicKey, a.clinicListExams)
	a.handle(mux, "GET /v1/clinic/rules", a.clinicKey, a.clinicGetRules)
	a.handle(mux, "PUT /v1/clinic/rules", a.clinicKey, a.clinicPutRules)
	a.handle(mux, "GET /v1/clinic/exams/{id}", a.clinicKey, a.clinicGetExam)
	a.handle(mux, "GET /v1/clinic/psos/{id}", a.clinicKey, a.clinicGetPSO)
	a.handle(mux, "GET /v1/clinic/psos/{id}/pdf", a.clinicKey, a.clinicPSOPDF)
	a.handle(mux, "POST /v1/clinic/psos/{id}/revoke", a.clinicKey, a.clinicRevokePSO, idempotent)
	a.integrationRoutes(mux)    // usage, statements, webhooks, invites: integrations.go
	a.clinicSettingsRoutes(mux) // clinicsettings.go
	a.directorRoutes(mux)       // medical-director oversight: director.go
	a.creditRoutes(mux)         // directors' credits: credits.go
}

func (a *api) clinicListExams(c *call) (reply, error) {
	q := c.r.URL.Query()
	page, err := a.Exams.List(c.r.Context(), c.clinic.ID, exam.Status(q.Get("status")), q.Get("cursor"), 0)
	if err != nil {
		return reply{}, err
	}
	items := make([]clinicExamView, len(page.Items))
	for i, e := range page.Items {
		items[i] = clinicExam(e)
	}
	var next any
	if page.NextCursor != "" {
		next = page.NextCursor
	}
	return ok(map[string]any{"items": items, "next_cursor": next}), nil
}

func (a *api) clinicGetExam(c *call) (reply, error) {
	e, err := a.Exams.ForClinic(c.r.Context(), c.clinic.ID, c.r.PathValue("id"))
	if err != nil {
		return reply{}, err
	}
	return ok(map[string]any{"exam": clinicExam(e)}), nil
}
