package app

import (
	"github.com/goodfaith/goodfaith/internal/catalog"
	"github.com/goodfaith/goodfaith/internal/oversight"
)

// wireOversight assembles the medical director's oversight (issue 11): the
// exam service consults it on create and approve, and the API serves the
// director's routes with director tokens.
func (a *App) wireOversight() error {
	o := &oversight.Service{
		Store: a.Ports.Store, Directory: a.Directory, Catalog: catalog.Default(), Readiness: oversight.DefaultRequirements(),
		Rules: a.Rules, Notifier: a.Ports.Notifier, Clock: a.Settings.Clock, IDs: a.Settings.IDs,
	}
	a.Exams.Oversight = o
	a.Deps.Oversight = o
	a.Deps.Directors = a.Settings.Directors
	if a.Deps.Directors == nil && a.Settings.DevIssuer != nil {
		v, err := a.Settings.DevIssuer.DirectorVerifier()
		if err != nil {
			return err
		}
		a.Deps.Directors = v
	}
	return nil
}
