package e2e

import (
	"slices"
	"testing"
)

// TestClinicRulesOverHTTP: a clinic tightens the rules, a loosening is
// refused and changes nothing, exams that the tightened rules block answer
// 422 with the rule, and the widget stops offering what is blocked.
func TestClinicRulesOverHTTP(t *testing.T) {
	forEachHome(t, func(t *testing.T, open func(testing.TB, bool) *env) {
		e := open(t, false)
		clinic := bearer(skA)
		if got := e.must(200, e.do("GET", "/v1/clinic/rules", clinic, nil)).json(t); len(got["rules"].([]any)) != 0 {
			t.Fatalf("no overrides yet: %v", got)
		}
		// Loosening: async in Ohio, where the strict default requires video.
		before := e.snapshot()
		r := e.must(422, e.do("PUT", "/v1/clinic/rules", clinic, map[string]any{"rules": []map[string]any{{"state": "OH", "treatment": "neurotoxin", "modalities": []string{"async"}}}}))
		if r.errorCode(t) != "override_loosens_rule" || r.errorField(t) != "rules[0].modalities" {
			t.Fatalf("loosening: %s", r.Body)
		}
		e.assertUnchanged(before, "a refused loosening")
		// Tightening: video only for fillers everywhere, and no GLP-1 in Texas.
		e.must(200, e.do("PUT", "/v1/clinic/rules", clinic, map[string]any{"rules": []map[string]any{
			{"state": "*", "treatment": "dermal_filler", "modalities": []string{"video"}},
			{"state": "TX", "treatment": "glp1", "blocked": true, "reason": "our director sees GLP-1 patients in person"},
		}}))
		async := patientBody("TX", "dermal_filler")
		async["modality"] = "async"
		if r := e.must(422, e.do("POST", "/v1/exams", widget(pkA), async)); r.errorCode(t) != "modality_not_allowed" {
			t.Fatalf("async filler after the override: %s", r.Body)
		}
		if r := e.must(422, e.do("POST", "/v1/exams", widget(pkA), patientBody("TX", "glp1"))); r.errorCode(t) != "treatment_blocked" {
			t.Fatalf("blocked GLP-1: %s", r.Body)
		}
		if r := e.must(422, e.do("POST", "/v1/exams", widget(pkA), patientBody("ZZ", "neurotoxin"))); r.errorCode(t) != "state_not_served" {
			t.Fatalf("unknown state: %s", r.Body)
		}
		e.must(201, e.do("POST", "/v1/exams", widget(pkA), patientBody("TX", "neurotoxin")))
		// Another clinic's rules are its own.
		e.must(201, e.do("POST", "/v1/exams", widget("pk_test_b"), patientBody("TX", "neurotoxin")))
		cfg := e.must(200, e.do("GET", "/v1/widget/config", widget(pkA), nil)).json(t)
		hours := cfg["hours"].(map[string]any)
		if hours["open_now"] != true || hours["video_available"] != true || hours["expected_wait"] == nil {
			t.Fatalf("hours of a clinic without hours: %v", hours)
		}
		states := cfg["states"].([]any)
		// Only states where a seeded provider is licensed (TX, CA) are offered.
		if !slices.Equal(states, []any{"CA", "TX"}) {
			t.Fatalf("states: %v", states)
		}
	})
}
