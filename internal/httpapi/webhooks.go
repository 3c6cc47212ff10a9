package httpapi

import (
	"net/http"
	"time"

	"github.com/goodfaith/goodfaith/internal/webhook"
)

// webhookRoutes set the clinic's endpoint and show and replay its
// deliveries (issue 5).
func (a *api) webhookRoutes(mux *http.ServeMux) {
	a.handle(mux, "PUT /v1/clinic/webhook", a.clinicKey, a.putWebhook)
	a.handle(mux, "GET /v1/clinic/webhook", a.clinicKey, a.getWebhook)
	a.handle(mux, "GET /v1/clinic/webhook/deliveries", a.clinicKey, a.listDeliveries)
	a.handle(mux, "POST /v1/clinic/webhook/deliveries/{id}/replay", a.clinicKey, a.replayDelivery, idempotent)
	a.handle(mux, "POST /v1/clinic/webhook/dead-letters/replay", a.clinicKey, a.replayDeadLetters, idempotent)
}

var webhookEvents = []string{webhook.ExamSubmitted, webhook.ExamDecided, webhook.PSOSigned}

func endpointView(ep webhook.Endpoint) map[string]any {
	return map[string]any{"url": ep.URL, "secret": ep.Secret, "events": webhookEvents, "updated_at": ep.UpdatedAt}
}

func (a *api) putWebhook(c *call) (reply, error) {
	var in struct {
		URL          string `json:"url"`
		RotateSecret bool   `json:"rotate_secret"`
	}
	if err := decodeStrict(c.body, &in); err != nil {
		return reply{}, err
	}
	ep, err := a.Webhooks.Set(c.r.Context(), c.clinic.ID, in.URL, in.RotateSecret)
	if err != nil {
		return reply{}, err
	}
	return ok(endpointView(ep)), nil
}

func (a *api) getWebhook(c *call) (reply, error) {
	ep, err := a.Webhooks.Get(c.r.Context(), c.clinic.ID)
	if err != nil {
		return reply{}, err
	}
	return ok(endpointView(ep)), nil
}

type deliveryView struct {
	EventID       string            `json:"event_id"`
	Type          string            `json:"type"`
	Status        string            `json:"status"`
	CreatedAt     time.Time         `json:"created_at"`
	Attempts      int               `json:"attempts"`
	NextAttemptAt *time.Time        `json:"next_attempt_at,omitempty"`
	DeliveredAt   *time.Time        `json:"delivered_at,omitempty"`
	DeadAt        *time.Time        `json:"dead_at,omitempty"`
	Replays       int               `json:"replays"`
	Log           []webhook.Attempt `json:"attempts_log"`
	Event         any               `json:"event"`
}

func deliveryOf(d webhook.Delivery) deliveryView {
	v := deliveryView{EventID: d.EventID, Type: d.Type, Status: d.Status, CreatedAt: d.CreatedAt, Attempts: d.TotalAttempts,
		DeliveredAt: d.DeliveredAt, DeadAt: d.DeadAt, Replays: d.Replays, Log: d.Log, Event: d.Body}
	if d.Status == webhook.Pending {
		v.NextAttemptAt = &d.NextAttemptAt
	}
	return v
}

func (a *api) listDeliveries(c *call) (reply, error) {
	q := c.r.URL.Query()
	status := q.Get("status")
	if status == "" {
		status = webhook.Dead
	}
	ds, next, err := a.Deliveries.List(c.r.Context(), c.clinic.ID, status, q.Get("cursor"), 0)
	if err != nil {
		return reply{}, err
	}
	items := make([]deliveryView, len(ds))
	for i, d := range ds {
		items[i] = deliveryOf(d)
	}
	var cursor any
	if next != "" {
		cursor = next
	}
	return ok(map[string]any{"items": items, "next_cursor": cursor}), nil
}

func (a *api) replayDelivery(c *call) (reply, error) {
	d, err := a.Deliveries.Replay(c.r.Context(), c.clinic.ID, c.r.PathValue("id"))
	if err != nil {
		return reply{}, err
	}
	return reply{status: http.StatusAccepted, body: map[string]any{"delivery": deliveryOf(d)}}, nil
}

func (a *api) replayDeadLetters(c *call) (reply, error) {
	n, err := a.Deliveries.ReplayDead(c.r.Context(), c.clinic.ID)
	if err != nil {
		return reply{}, err
	}
	return reply{status: http.StatusAccepted, body: map[string]any{"replayed": n}}, nil
}
