package app

import (
	"context"

	"github.com/goodfaith/goodfaith/internal/connections"
	"github.com/goodfaith/goodfaith/internal/signal"
)

// SignalHandler is the video signaling handler delivering through conns
// (the Management API in AWS, a Hub locally).
func (a *App) SignalHandler(conns connections.Sender) *signal.Handler {
	return &signal.Handler{
		Store: a.Ports.Store, Live: a.Ports.Live, Conns: conns, Exams: a.Exams, Patients: a.Deps.PatientTokens,
		Providers: a.Settings.Providers, Clock: a.Settings.Clock, Log: a.Settings.Log,
	}
}

// LocalHub is the in-process hub through which the local home's signaling
// endpoint delivers (localhome.Signal), created on first use. Once it
// exists, SweepConnections tells rooms through it.
func (a *App) LocalHub() *connections.Hub {
	a.localHub.CompareAndSwap(nil, &connections.Hub{})
	return a.localHub.Load()
}

// SweepConnections drops the signaling connection records past their
// expiry (signal.Handler.SweepConnections). Locally it tells their rooms
// through the LocalHub; the AWS sweep function has no Management API
// client, and needs none: API Gateway closes every connection after two
// hours, before its record expires (signal.ConnTTL).
func (a *App) SweepConnections(ctx context.Context) (int, error) {
	var conns connections.Sender // nil: no one to tell (the AWS sweep function)
	if hub := a.localHub.Load(); hub != nil {
		conns = hub
	}
	return a.SignalHandler(conns).SweepConnections(ctx)
}
