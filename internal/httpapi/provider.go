package httpapi

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/goodfaith/goodfaith/internal/exam"
	"github.com/goodfaith/goodfaith/internal/fault"
	"github.com/goodfaith/goodfaith/internal/presence"
	"github.com/goodfaith/goodfaith/internal/store"
)

func (a *api) providerRoutes(mux *http.ServeMux) {
	a.handle(mux, "GET /v1/provider/queue", a.provider, a.queue)
	a.handle(mux, "GET /v1/provider/exams", a.provider, a.heldExams)
	a.handle(mux, "POST /v1/provider/exams/{id}/claim", a.provider, a.claim, idempotent)
	a.handle(mux, "POST /v1/provider/exams/{id}/release", a.provider, a.release, idempotent)
	a.handle(mux, "GET /v1/provider/exams/{id}", a.provider, a.providerGetExam)
	a.handle(mux, "GET /v1/provider/exams/{id}/attachments/{att}", a.provider, a.attachmentURL)
	a.handle(mux, "POST /v1/provider/exams/{id}/decision", a.provider, a.decide, idempotent)
	a.handle(mux, "PUT /v1/provider/presence", a.provider, a.putPresence)
	a.consoleProviderRoutes(mux)  // history, PSO PDF: consoleapi.go
	a.directorProviderRoutes(mux) // protocol prefill: director.go
}

// queue answers GET /v1/provider/queue: every exam the provider may take,
// or with ?limit=N (1 to store.MaxQueryLimit) the first N of them.
func (a *api) queue(c *call) (reply, error) {
	limit := 0
	if v := c.r.URL.Query().Get("limit"); v != "" {
		msg := fmt.Sprintf("limit must be a whole number from 1 to %d", store.MaxQueryLimit)
		n, err := strconv.Atoi(v)
		if err != nil { // a wrong type is 400 (API.md); a number out of range 422
			return reply{}, fault.Malformed("invalid_limit", "limit", msg)
		}
		if n < 1 || n > store.MaxQueryLimit {
			return reply{}, fault.Invalid("invalid_limit", "limit", msg)
		}
		limit = n
	}
	items, err := a.Exams.QueueFirst(c.r.Context(), c.principal.ProviderID, limit)
	if err != nil {
		return reply{}, err
	}
	return ok(map[string]any{"items": items}), nil
}

// heldExams answers GET /v1/provider/exams: the exams the provider holds
// (claimed or in a consult), so a reloaded console can list them again.
// Items carry what a queue item does and no patient identity.
func (a *api) heldExams(c *call) (reply, error) {
	items, err := a.Exams.Held(c.r.Context(), c.principal.ProviderID)
	if err != nil {
		return reply{}, err
	}
	return ok(map[string]any{"items": items}), nil
}

func (a *api) claim(c *call) (reply, error) {
	e, err := a.Exams.Claim(c.r.Context(), c.principal.ProviderID, c.r.PathValue("id"))
	if err != nil {
		return reply{}, err
	}
	return ok(map[string]any{"exam": providerExam(e, nil)}), nil
}

func (a *api) release(c *call) (reply, error) {
	e, err := a.Exams.Release(c.r.Context(), c.principal.ProviderID, c.r.PathValue("id"))
	if err != nil {
		return reply{}, err
	}
	return ok(map[string]any{"exam": map[string]any{"id": e.ID, "status": e.Status}}), nil
}

func (a *api) providerGetExam(c *call) (reply, error) {
	e, atts, err := a.Exams.ForProvider(c.r.Context(), c.principal.ProviderID, c.r.PathValue("id"))
	if err != nil {
		return reply{}, err
	}
	return ok(map[string]any{"exam": providerExam(e, atts)}), nil
}

func (a *api) attachmentURL(c *call) (reply, error) {
	dl, err := a.Exams.AttachmentURL(c.r.Context(), c.principal.ProviderID, c.r.PathValue("id"), c.r.PathValue("att"))
	if err != nil {
		return reply{}, err
	}
	return ok(map[string]any{"url": dl.URL, "method": dl.Method, "expires_at": dl.ExpiresAt}), nil
}

func (a *api) decide(c *call) (reply, error) {
	var in exam.DecisionInput
	if err := decodeStrict(c.body, &in); err != nil {
		return reply{}, err
	}
	e, rec, err := a.Exams.Decide(c.r.Context(), c.principal.ProviderID, c.r.PathValue("id"), in)
	if err != nil {
		return reply{}, err
	}
	body := map[string]any{"exam": providerExam(e, nil)}
	if rec == nil {
		return ok(body), nil
	}
	body["pso"] = a.psoView(*rec)
	return created(body), nil
}

func (a *api) putPresence(c *call) (reply, error) {
	var in struct {
		Online *bool `json:"online"`
	}
	if err := decodeStrict(c.body, &in); err != nil {
		return reply{}, err
	}
	if in.Online == nil {
		return reply{}, fault.Invalid("required", "online", "online must be true or false")
	}
	st, err := presence.Set(c.r.Context(), a.Store, a.Clock, c.principal.ProviderID, *in.Online)
	if err != nil {
		return reply{}, err
	}
	if *in.Online {
		// The console's heartbeat also keeps the provider's claims (leases).
		if _, err := a.Exams.RenewLeases(c.r.Context(), c.principal.ProviderID); err != nil {
			return reply{}, err
		}
	}
	return ok(st), nil
}
