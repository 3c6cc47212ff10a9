package localhome

import (
	"github.com/goodfaith/goodfaith/internal/app"
	"github.com/goodfaith/goodfaith/internal/signal/localws"
)

// Signal is the local server's GET /v1/signal endpoint for a (mount it at
// localws.Path; Close it on shutdown). It delivers through a's local hub,
// which a's connections sweep tells too.
func Signal(a *app.App) *localws.Endpoint {
	hub := a.LocalHub()
	return &localws.Endpoint{Handler: a.SignalHandler(hub), Hub: hub, IDs: a.Settings.IDs, Log: a.Settings.Log}
}
