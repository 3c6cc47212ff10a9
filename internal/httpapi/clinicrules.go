package httpapi

import (
	"github.com/goodfaith/goodfaith/internal/clinicrules"
	"github.com/goodfaith/goodfaith/internal/fault"
	"github.com/goodfaith/goodfaith/internal/hours"
	"github.com/goodfaith/goodfaith/internal/rules"
)

// GET /v1/clinic/rules and PUT /v1/clinic/rules: the clinic's overrides of
// the state rules (an extension of API.md). A PUT replaces the whole list;
// an override that would loosen the law answers 422 override_loosens_rule
// with the row's field, and nothing is written.

func (a *api) clinicGetRules(c *call) (reply, error) {
	rec, err := clinicrules.Get(c.r.Context(), a.Store, c.clinic.ID)
	if err != nil {
		return reply{}, err
	}
	return ok(rulesView(rec)), nil
}

func (a *api) clinicPutRules(c *call) (reply, error) {
	var in struct {
		Rules *rules.Overrides `json:"rules"`
	}
	if err := decodeStrict(c.body, &in); err != nil {
		return reply{}, err
	}
	if in.Rules == nil {
		return reply{}, errRulesRequired
	}
	rec, err := clinicrules.Put(c.r.Context(), a.Store, a.Exams.Rules, c.clinic.ID, *in.Rules, a.Clock.Now())
	if err != nil {
		return reply{}, err
	}
	return ok(rulesView(rec)), nil
}

func rulesView(rec clinicrules.Record) map[string]any {
	return map[string]any{"rules": rec.Rules, "updated_at": rec.UpdatedAt, "rules_version": rec.RulesVersion, "version": rec.Version}
}

var errRulesRequired = fault.Invalid("required", "rules", "rules is the full list of overrides (an empty list removes them)")

// clinicOverrides reads the clinic's overrides for the widget's offer.
func (a *api) clinicOverrides(c *call) (rules.Overrides, error) {
	rec, err := clinicrules.Get(c.r.Context(), a.Store, c.clinic.ID)
	return rec.Rules, err
}

// hoursView is the widget config's hours: the weekly schedule, whether
// the clinic is open now (live video only then), when it next opens, and
// the service's waiting targets per modality — the time by which an exam
// is escalated to every eligible provider, and after which an unclaimed
// exam expires unbilled. They are targets, not measured waits.
func (a *api) hoursView(c *call) (map[string]any, error) {
	w, err := hours.Parse(c.clinic.Timezone, c.clinic.Hours)
	if err != nil {
		return nil, err
	}
	now := a.Clock.Now()
	open := w.OpenAt(now)
	v := map[string]any{
		"timezone": c.clinic.Timezone, "weekly": nonNilMap(c.clinic.Hours),
		"open_now": open, "video_available": open, "async_accepted": true,
	}
	if next, ok := w.NextOpen(now); ok && !open {
		v["next_open_at"] = next.UTC()
	}
	pol := a.Exams.Queueing()
	wait := map[string]any{}
	for _, m := range []string{"async", "video"} {
		wait[m] = map[string]any{"target_minutes": int(pol.Escalate[m].Minutes()), "expires_after_minutes": int(pol.Expire[m].Minutes())}
	}
	v["expected_wait"] = wait
	return v, nil
}
