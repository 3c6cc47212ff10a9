package app

import (
	"github.com/goodfaith/goodfaith/internal/connections"
	"github.com/goodfaith/goodfaith/internal/signal"
	"github.com/goodfaith/goodfaith/internal/signal/localws"
)

// SignalHandler is the video signaling handler delivering through conns
// (the Management API in AWS, a Hub locally).
func (a *App) SignalHandler(conns connections.Sender) *signal.Handler {
	return &signal.Handler{
		Store: a.Ports.Store, Conns: conns, Exams: a.Exams, Patients: a.Deps.PatientTokens,
		Providers: a.Settings.Providers, Clock: a.Settings.Clock, Log: a.Settings.Log,
	}
}

// LocalSignal is the local server's GET /v1/signal endpoint (mount it at
// localws.Path; Close it on shutdown).
func (a *App) LocalSignal() *localws.Endpoint {
	hub := &connections.Hub{}
	return &localws.Endpoint{Handler: a.SignalHandler(hub), Hub: hub, IDs: a.Settings.IDs, Log: a.Settings.Log}
}
