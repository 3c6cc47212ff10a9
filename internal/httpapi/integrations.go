package httpapi

import (
	"net/http"

	"github.com/goodfaith/goodfaith/internal/billing"
	"github.com/goodfaith/goodfaith/internal/invite"
	"github.com/goodfaith/goodfaith/internal/webhook"
)

// Integrations are what the clinic's billing, webhook and invite routes
// need; Deps embeds them.
type Integrations struct {
	Billing    billing.Ledger
	Webhooks   webhook.Endpoints
	Deliveries webhook.Queue
	Invites    *invite.Service
}

// integrationRoutes mount the clinic's billing, webhook and invite routes.
func (a *api) integrationRoutes(mux *http.ServeMux) {
	a.billingRoutes(mux)
	a.webhookRoutes(mux)
	a.inviteRoutes(mux)
}
