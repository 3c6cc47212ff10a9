package e2e

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goodfaith/goodfaith/internal/rules"
)

// TestWidgetConfigRules: the widget config says, per state and per the
// clinic's treatments, which modalities the rules allow and whether async
// needs photos (Texas store-and-forward does), so the widget can ask for
// photos up front; the clinic's tightenings show there too.
func TestWidgetConfigRules(t *testing.T) {
	forEachHome(t, func(t *testing.T, open func(testing.TB, bool) *env) {
		e := open(t, false)
		cfg := e.must(200, e.do("GET", "/v1/widget/config", widget(pkA), nil)).json(t)
		byState, ok := cfg["rules"].(map[string]any)
		if !ok {
			t.Fatalf("no rules in the config: %v", cfg["rules"])
		}
		states := cfg["states"].([]any)
		if len(byState) != len(states) {
			t.Fatalf("rules for %d states, %d states offered", len(byState), len(states))
		}
		tx := byState["TX"].(map[string]any)["neurotoxin"].(map[string]any)
		if tx["async_requires_photos"] != true || !slices.Contains(tx["modalities"].([]any), any("async")) {
			t.Fatalf("TX neurotoxin: %v", tx)
		}
		// Every entry is what the rules say for that state and treatment.
		rs, now := rules.Default(), time.Now()
		asyncWithPhotos, videoOnly := 0, 0
		for _, st := range states {
			per := byState[st.(string)].(map[string]any)
			for _, c := range []string{"neurotoxin", "dermal_filler", "glp1", "testosterone"} {
				want, err := rs.ForExam(st.(string), []string{c}, now)
				got, present := per[c].(map[string]any)
				served := false
				if err == nil {
					if served, err = e.App.Exams.Serves(t.Context(), st.(string), []string{c}, want); err != nil {
						t.Fatal(err)
					}
				}
				if (err == nil && served) != present {
					t.Fatalf("%s/%s: in config %v, rules error %v, served %v", st, c, present, err, served)
				}
				if !present {
					continue
				}
				var mods []string
				for _, m := range got["modalities"].([]any) {
					mods = append(mods, m.(string))
				}
				var wantMods []string
				for _, m := range want.Modalities {
					wantMods = append(wantMods, string(m))
				}
				if !slices.Equal(mods, wantMods) || got["async_requires_photos"] != want.AsyncRequiresPhotos {
					t.Fatalf("%s/%s: config %v, rules %v photos=%v", st, c, got, wantMods, want.AsyncRequiresPhotos)
				}
				if want.Allows(rules.Async) && want.AsyncRequiresPhotos {
					asyncWithPhotos++
				}
				if !want.Allows(rules.Async) {
					videoOnly++
				}
			}
		}
		if asyncWithPhotos == 0 || videoOnly == 0 {
			t.Fatalf("expected both async-with-photos (%d) and video-only (%d) entries", asyncWithPhotos, videoOnly)
		}
		// A clinic's tightening shows in its config (and not in another's).
		e.must(200, e.do("PUT", "/v1/clinic/rules", bearer(skA), map[string]any{"rules": []map[string]any{
			{"state": "TX", "treatment": "neurotoxin", "modalities": []string{"video"}},
		}}))
		cfg = e.must(200, e.do("GET", "/v1/widget/config", widget(pkA), nil)).json(t)
		mods := cfg["rules"].(map[string]any)["TX"].(map[string]any)["neurotoxin"].(map[string]any)["modalities"].([]any)
		if !slices.Equal(mods, []any{"video"}) {
			t.Fatalf("tightened TX neurotoxin: %v", mods)
		}
		other := e.must(200, e.do("GET", "/v1/widget/config", widget("pk_test_b"), nil)).json(t)
		if mods := other["rules"].(map[string]any)["TX"].(map[string]any)["neurotoxin"].(map[string]any)["modalities"].([]any); !slices.Contains(mods, any("async")) {
			t.Fatalf("clinic B got clinic A's tightening: %v", mods)
		}
	})
}

// TestWidgetConfigForAnInvite: an invite link carries a patient token and no
// publishable key; the config answers that token for the token's clinic,
// and refuses a bad token.
func TestWidgetConfigForAnInvite(t *testing.T) {
	forEachHome(t, func(t *testing.T, open func(testing.TB, bool) *env) {
		e := open(t, true)
		inv := e.must(201, e.do("POST", "/v1/clinic/invites", bearer(skA), map[string]any{
			"patient":    map[string]any{"first_name": "Ana", "last_name": "Ruiz", "dob": "1988-02-03", "email": "ana@example.com", "state": "TX"},
			"treatments": []string{"neurotoxin"},
		})).json(t)
		link, err := url.Parse(inv["url"].(string))
		if err != nil {
			t.Fatal(err)
		}
		if link.Path != "/widget/" || link.Query().Get("exam") != inv["exam_id"] {
			t.Fatalf("invite link %s", link)
		}
		frag, err := url.ParseQuery(link.Fragment)
		if err != nil || frag.Get("patient_token") == "" {
			t.Fatalf("invite link fragment %q", link.Fragment)
		}
		tok := frag.Get("patient_token")
		cfg := e.must(200, e.do("GET", "/v1/widget/config", bearer(tok), nil)).json(t)
		if cfg["clinic"].(map[string]any)["id"] != "clinic_a" || cfg["questionnaires"].(map[string]any)["neurotoxin"] == nil || cfg["rules"] == nil {
			t.Fatalf("config for the invite: %v", cfg["clinic"])
		}
		ex := e.must(200, e.do("GET", "/v1/exams/"+inv["exam_id"].(string), bearer(tok), nil)).json(t)["exam"].(map[string]any)
		if ex["status"] != "draft" || ex["patient"].(map[string]any)["first_name"] != "Ana" {
			t.Fatalf("invited exam: %v", ex)
		}
		for _, bad := range []string{"nope", strings.Repeat("a", 40), tok[:len(tok)-4] + "AAAA"} {
			if r := e.do("GET", "/v1/widget/config", bearer(bad), nil); r.Status != 401 {
				t.Fatalf("bad token %q: %d %s", bad, r.Status, r.Body)
			}
		}
		// No credential at all is still 401.
		e.must(401, e.do("GET", "/v1/widget/config", nil, nil))
	})
}
