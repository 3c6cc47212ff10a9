package app

import (
	"context"

	"github.com/goodfaith/goodfaith/internal/connections"
	"github.com/goodfaith/goodfaith/internal/signal"
	"github.com/goodfaith/goodfaith/internal/signal/localws"
)

// SignalHandler is the video signaling handler delivering through conns
// (the Management API in AWS, a Hub locally).
func (a *App) SignalHandler(conns connections.Sender) *signal.Handler {
	return &signal.Handler{
		Store: a.Ports.Store, Live: a.Ports.Live, Conns: conns, Exams: a.Exams, Patients: a.Deps.PatientTokens,
		Providers: a.Settings.Providers, Clock: a.Settings.Clock, Log: a.Settings.Log,
	}
}

// LocalSignal is the local server's GET /v1/signal endpoint (mount it at
// localws.Path; Close it on shutdown).
func (a *App) LocalSignal() *localws.Endpoint {
	hub := &connections.Hub{}
	a.localHub.Store(hub)
	return &localws.Endpoint{Handler: a.SignalHandler(hub), Hub: hub, IDs: a.Settings.IDs, Log: a.Settings.Log}
}

// SweepConnections drops the signaling connection records past their
// expiry (signal.Handler.SweepConnections). Locally it tells their rooms
// through the hub of LocalSignal; the AWS sweep function has no
// Management API client, and needs none: API Gateway closes every
// connection after two hours, before its record expires (signal.ConnTTL).
func (a *App) SweepConnections(ctx context.Context) (int, error) {
	var conns connections.Sender // nil: no one to tell (the AWS sweep function)
	if hub := a.localHub.Load(); hub != nil {
		conns = hub
	}
	return a.SignalHandler(conns).SweepConnections(ctx)
}
