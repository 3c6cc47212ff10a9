package app

import (
	"context"
	"time"

	"github.com/goodfaith/goodfaith/internal/auth"
	"github.com/goodfaith/goodfaith/internal/billing"
	"github.com/goodfaith/goodfaith/internal/httpapi"
	"github.com/goodfaith/goodfaith/internal/invite"
	"github.com/goodfaith/goodfaith/internal/queue"
	"github.com/goodfaith/goodfaith/internal/webhook"
)

// Intervals of the integration jobs on one machine (RunIntegrations). In
// AWS an EventBridge schedule invokes the same jobs (see Integrations), and
// the webhook jobs come from SQS.
const (
	WebhookPollInterval = time.Second
	CloseInterval       = 10 * time.Minute
)

// Integrations are billing, webhooks and invites, assembled.
type Integrations struct {
	Ledger       billing.Ledger
	Meter        billing.Meter
	MonthlyClose billing.MonthlyClose
	Endpoints    webhook.Endpoints
	Queue        webhook.Queue
	Events       webhook.Events
	Worker       *webhook.Worker
	Invites      *invite.Service
	// Jobs is the queue of webhook delivery jobs (Ports.Jobs, else an
	// in-process queue) that RunIntegrations consumes.
	Jobs queue.Queue
}

// wireIntegrations builds the integrations and hands the HTTP layer its
// share.
func (a *App) wireIntegrations() error {
	s, p := a.Settings, a.Ports
	inviteTokens, err := auth.NewPatientTokens(s.PatientSecret, s.TokenIssuer, invite.TokenTTL, s.Clock)
	if err != nil {
		return err
	}
	ledger := billing.Ledger{Store: p.Store, Clock: s.Clock}
	endpoints := webhook.Endpoints{Store: p.Store, Clock: s.Clock, AllowLoopback: s.DevWebhooks}
	jobs := p.Jobs
	if jobs == nil {
		jobs = &queue.Memory{Clock: s.Clock}
	}
	deliveries := webhook.Queue{Store: p.Store, Clock: s.Clock, Jobs: jobs, Log: s.Log}
	in := &Integrations{
		Ledger:       ledger,
		Meter:        billing.Meter{Ledger: ledger, Clinics: a.Directory},
		MonthlyClose: billing.MonthlyClose{Ledger: ledger, Clinics: a.Directory},
		Endpoints:    endpoints,
		Queue:        deliveries,
		Events:       webhook.Events{Queue: deliveries, Endpoints: endpoints},
		Worker:       &webhook.Worker{Queue: deliveries, Endpoints: endpoints, Log: s.Log},
		Invites: &invite.Service{Exams: a.Exams, Tokens: inviteTokens, Notifier: p.Notifier, Store: p.Store, Clock: s.Clock,
			LinkBase: s.PublicOrigin + "/widget/"},
		Jobs: jobs,
	}
	a.Integrations = in
	a.Deps.Integrations = httpapi.Integrations{Billing: ledger, Webhooks: endpoints, Deliveries: deliveries, Invites: in.Invites}
	return nil
}

// integrationConsumers are the meter and the webhook events consumer.
func (a *App) integrationConsumers() []Consumer {
	return []Consumer{
		{Name: billing.ConsumerName, Handle: a.Integrations.Meter.Handle},
		{Name: webhook.ConsumerName, Handle: a.Integrations.Events.Handle},
	}
}

// RunIntegrations runs, until ctx ends, the webhook worker polling the
// job queue (woken as soon as the in-process queue has a job ready, else every
// WebhookPollInterval; it re-drives what the store holds overdue at once,
// so a restart loses no delivery) and the
// monthly close (every CloseInterval; it closes only what is due and is
// idempotent): the one-machine stand-in for the schedules of the AWS home.
// The first close runs before it returns, so a server starts with past
// months settled.
func (a *App) RunIntegrations(ctx context.Context) {
	in := a.Integrations
	closeDue := func() {
		if err := in.MonthlyClose.Run(ctx); err != nil && ctx.Err() == nil {
			a.Settings.Log.ErrorContext(ctx, "monthly close", "error", err.Error())
		}
	}
	closeDue()
	var ready <-chan struct{}
	if m, ok := in.Jobs.(*queue.Memory); ok {
		ready = m.Ready()
	}
	go in.Worker.Run(ctx, in.Jobs, ready, WebhookPollInterval)
	go func() {
		t := time.NewTicker(CloseInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				closeDue()
			}
		}
	}()
}
