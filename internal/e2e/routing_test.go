package e2e

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/goodfaith/goodfaith/internal/directory"
	"github.com/goodfaith/goodfaith/internal/rules"
)

// putProviders writes providers through the directory and drops the
// service's cached network index, as a directory write in-process does.
func (e *env) putProviders(ps ...directory.Provider) {
	e.t.Helper()
	for _, p := range ps {
		if err := p.Validate(e.App.Rules); err != nil {
			e.t.Fatal(err)
		}
		if err := e.App.Directory.PutProvider(context.Background(), p); err != nil {
			e.t.Fatal(err)
		}
	}
	e.App.Exams.DirectoryChanged()
}

// ohioMD serves Ohio for neurotoxin.
var ohioMD = directory.Provider{ID: "prov_oh_md", Name: "Dr. OH", Credential: "MD", NPI: "1000000003",
	Licenses: []directory.License{{State: "OH", Type: rules.MD, Number: "OH1", Expires: "2099-01-01"}}, Categories: []string{"neurotoxin"}}

// queuedIn takes a neurotoxin exam in state, in modality, to the queue.
func (e *env) queuedIn(state, modality string) string {
	e.t.Helper()
	body := patientBody(state, "neurotoxin")
	body["modality"] = modality
	r := e.must(201, e.do("POST", "/v1/exams", widget(pkA), body)).json(e.t)
	id, tok := r["exam"].(map[string]any)["id"].(string), r["patient_token"].(string)
	photo := e.uploadPhoto(id, tok)
	e.must(200, e.do("PUT", "/v1/exams/"+id+"/intake", bearer(tok), map[string]any{
		"answers": neurotoxinAnswers(photo), "consents": map[string]bool{"telehealth": true, "privacy": true}, "modality": modality,
	}))
	e.must(202, e.do("POST", "/v1/exams/"+id+"/submit", bearer(tok), nil))
	return id
}

func (e *env) online(providerID string) {
	e.t.Helper()
	e.must(200, e.do("PUT", "/v1/provider/presence", bearer(e.providerToken(providerID)), map[string]bool{"online": true}))
}

func (e *env) queueIDs(providerID string) []string {
	e.t.Helper()
	items := e.must(200, e.do("GET", "/v1/provider/queue", bearer(e.providerToken(providerID)), nil)).json(e.t)["items"].([]any)
	var ids []string
	for _, it := range items {
		ids = append(ids, it.(map[string]any)["exam_id"].(string))
	}
	return ids
}

// TestStateNotServed: a state where no provider in the network may take a
// treatment is not offered for it in the widget config, and an exam there
// answers 422 state_not_served naming the reason; once a licensed provider
// joins the directory, the state is offered and the exam accepted.
func TestStateNotServed(t *testing.T) {
	forEachHome(t, func(t *testing.T, open func(testing.TB, bool) *env) {
		e := open(t, false)
		cfg := e.must(200, e.do("GET", "/v1/widget/config", widget(pkA), nil)).json(t)
		states, byState := cfg["states"].([]any), cfg["rules"].(map[string]any)
		// The seed licenses providers in TX and CA only.
		if !slices.Equal(states, []any{"CA", "TX"}) {
			t.Fatalf("offered states: %v", states)
		}
		if _, ok := byState["CA"].(map[string]any)["glp1"]; ok {
			t.Fatalf("CA glp1 offered, but no CA provider is credentialed for it: %v", byState["CA"])
		}
		if _, ok := byState["TX"].(map[string]any)["testosterone"]; !ok {
			t.Fatalf("TX testosterone not offered (prov_tx_md holds TX DEA): %v", byState["TX"])
		}
		before := e.snapshot()
		video := patientBody("OH", "neurotoxin")
		video["modality"] = "video"
		r := e.must(422, e.do("POST", "/v1/exams", widget(pkA), video))
		if r.errorCode(t) != "state_not_served" || r.errorField(t) != "patient.state" || r.json(t)["reason"] != "no_licensed_provider" {
			t.Fatalf("OH: %s", r.Body)
		}
		if r := e.must(422, e.do("POST", "/v1/exams", widget(pkA), patientBody("CA", "glp1"))); r.errorCode(t) != "state_not_served" {
			t.Fatalf("CA glp1: %s", r.Body)
		}
		e.assertUnchanged(before, "refused unserved exams")
		// Licensed in FL for testosterone but without a DEA registration there.
		e.putProviders(directory.Provider{ID: "prov_fl_nodea", Name: "Dr. FL", Credential: "MD", NPI: "1000000001",
			Licenses: []directory.License{{State: "FL", Type: rules.MD, Number: "FL1", Expires: "2099-01-01"}}, Categories: []string{"testosterone"}})
		trt := patientBody("FL", "testosterone")
		trt["modality"] = "video"
		if r := e.must(422, e.do("POST", "/v1/exams", widget(pkA), trt)); r.errorCode(t) != "state_not_served" || r.json(t)["reason"] != "no_dea_registered_provider" {
			t.Fatalf("FL testosterone without DEA: %s", r.Body)
		}
		// An expired licence does not serve a state; an active one does.
		e.putProviders(directory.Provider{ID: "prov_oh_old", Name: "Dr. Old", Credential: "MD", NPI: "1000000002",
			Licenses: []directory.License{{State: "OH", Type: rules.MD, Number: "OH0", Expires: "2021-01-01"}}, Categories: []string{"neurotoxin"}})
		e.must(422, e.do("POST", "/v1/exams", widget(pkA), video))
		e.putProviders(ohioMD)
		cfg = e.must(200, e.do("GET", "/v1/widget/config", widget(pkA), nil)).json(t)
		if !containsString(cfg["states"].([]any), "OH") || cfg["rules"].(map[string]any)["OH"].(map[string]any)["neurotoxin"] == nil {
			t.Fatalf("OH not offered once licensed: %v", cfg["states"])
		}
		e.must(201, e.do("POST", "/v1/exams", widget(pkA), video))
	})
}

// TestExpectedWaitGrowsWithQueue: the widget config's expected_wait per
// state comes from the queue and the eligible providers online: the SLA
// target while nobody is online, then an estimate that grows as exams
// queue up.
func TestExpectedWaitGrowsWithQueue(t *testing.T) {
	forEachHome(t, func(t *testing.T, open func(testing.TB, bool) *env) {
		e := open(t, false)
		wait := func() map[string]any {
			cfg := e.must(200, e.do("GET", "/v1/widget/config", widget(pkA), nil)).json(t)
			if cfg["hours"].(map[string]any)["expected_wait"] == nil {
				t.Fatalf("hours.expected_wait (the SLA targets) is gone")
			}
			return cfg["expected_wait"].(map[string]any)["TX"].(map[string]any)
		}
		w := wait()
		if w["basis"] != "no_eligible_provider_online_sla_target" || w["async_minutes"] != float64(60) || w["video_minutes"] != nil || w["providers_online"] != float64(0) {
			t.Fatalf("nobody online: %v", w)
		}
		e.online("prov_tx_md")
		w = wait()
		if w["basis"] != "queue_depth_and_online_providers" || w["providers_online"] != float64(1) || w["queue_depth"] != float64(0) {
			t.Fatalf("one online, empty queue: %v", w)
		}
		prev, prevVideo := w["async_minutes"].(float64), w["video_minutes"].(float64)
		for n := 1; n <= 3; n++ {
			e.queuedIn("TX", "async")
			w = wait()
			if w["queue_depth"] != float64(n) || w["async_minutes"].(float64) <= prev {
				t.Fatalf("after %d queued: %v (was %v minutes)", n, w, prev)
			}
			prev = w["async_minutes"].(float64)
		}
		e.queuedIn("TX", "video")
		w = wait()
		if w["video_queue_depth"] != float64(1) || w["video_minutes"].(float64) <= prevVideo || w["async_minutes"].(float64) <= prev {
			t.Fatalf("after a video exam queued: %v", w)
		}
		// A second provider online shortens it.
		e.online("prov_tx_np")
		if w2 := wait(); w2["providers_online"] != float64(2) || w2["async_minutes"].(float64) >= w["async_minutes"].(float64) {
			t.Fatalf("two online: %v, one online: %v", w2, w)
		}
	})
}

// TestRoutingManyProvidersOverHTTP: with 61 providers across states
// (multi-state licences, expired licences, licence types a state does not
// allow, uncredentialed, offline, one at its claim limit), every queued
// exam appears in exactly the queues of the providers an independent
// reading of the rules makes eligible, an ineligible claim answers 404,
// and the provider at the limit sees the exam but may not claim it.
func TestRoutingManyProvidersOverHTTP(t *testing.T) {
	forEachHome(t, func(t *testing.T, open func(testing.TB, bool) *env) {
		e := open(t, false)
		states := []string{"TX", "FL", "NY", "MD", "OH"}
		types := []rules.LicenseType{rules.MD, rules.DO, rules.NP, rules.PA, rules.RN}
		var ps []directory.Provider
		online := map[string]bool{}
		for i := range 60 {
			p := directory.Provider{ID: fmt.Sprintf("prov_r%02d", i), Name: fmt.Sprintf("Provider %d", i), Credential: "MD", NPI: fmt.Sprintf("20000000%02d", i)}
			for j, st := range states {
				if i>>j&1 == 0 && i%5 != j {
					continue
				}
				exp := "2099-12-31"
				if (i+j)%7 == 0 {
					exp = "2020-06-30"
				}
				p.Licenses = append(p.Licenses, directory.License{State: st, Type: types[(i+j)%5], Number: fmt.Sprintf("%s-%d", st, i), Expires: exp})
			}
			p.Categories = []string{"neurotoxin", "dermal_filler"}
			if i%11 == 10 {
				p.Categories = []string{"dermal_filler"}
			}
			ps = append(ps, p)
			online[p.ID] = i%3 != 0
		}
		full := directory.Provider{ID: "prov_r_full", Name: "Full", Credential: "MD", NPI: "2000000099", Categories: []string{"neurotoxin"},
			Licenses: []directory.License{{State: "TX", Type: rules.MD, Number: "TX-F", Expires: "2099-12-31"}}}
		ps = append(ps, full)
		online[full.ID] = true
		e.putProviders(ps...)
		for id, on := range online {
			if on {
				e.online(id)
			}
		}
		// The full provider takes three TX exams before the test's exams queue.
		for range 3 {
			e.must(200, e.do("POST", "/v1/provider/exams/"+e.queuedIn("TX", "async")+"/claim", bearer(e.providerToken(full.ID)), nil))
		}
		type ex struct{ id, state, modality string }
		exams := []ex{{state: "TX", modality: "async"}, {state: "TX", modality: "video"}, {state: "FL", modality: "async"},
			{state: "NY", modality: "video"}, {state: "MD", modality: "video"}, {state: "OH", modality: "video"}}
		for i := range exams {
			exams[i].id = e.queuedIn(exams[i].state, exams[i].modality)
		}
		// The oracle: the law's performers per state (MD requires a
		// physician for neurotoxin), an unexpired licence there, neurotoxin
		// credentialed, and presence for video. Seed providers count too.
		all := append(slices.Clone(seed.Providers), ps...)
		today := time.Now().UTC().Format(time.DateOnly)
		eligible := func(p directory.Provider, x ex) bool {
			perf := []rules.LicenseType{rules.MD, rules.DO, rules.NP, rules.PA}
			if x.state == "MD" {
				perf = []rules.LicenseType{rules.MD, rules.DO}
			}
			ok := false
			for _, l := range p.Licenses {
				ok = ok || l.State == x.state && l.Expires >= today && slices.Contains(perf, l.Type)
			}
			return ok && slices.Contains(p.Categories, "neurotoxin") && (x.modality != "video" || online[p.ID])
		}
		counts := map[string]int{}
		var refusedClaims int
		for _, p := range all {
			got := e.queueIDs(p.ID)
			for _, x := range exams {
				want := eligible(p, x)
				if slices.Contains(got, x.id) != want {
					t.Fatalf("%s and %s %s exam %s: in queue %v, eligible %v (licences %v, categories %v, online %v)",
						p.ID, x.state, x.modality, x.id, !want, want, p.Licenses, p.Categories, online[p.ID])
				}
				if want {
					counts[x.state+"/"+x.modality]++
				} else if refusedClaims < 40 {
					refusedClaims++
					if r := e.must(404, e.do("POST", "/v1/provider/exams/"+x.id+"/claim", bearer(e.providerToken(p.ID)), nil)); r.errorCode(t) != "exam_not_found" {
						t.Fatalf("%s claiming %s: %s", p.ID, x.id, r.Body)
					}
				}
			}
		}
		// The sets are neither empty nor everyone: the cases discriminate.
		for _, x := range exams {
			if n := counts[x.state+"/"+x.modality]; n == 0 || n == len(all) {
				t.Fatalf("%s/%s: %d of %d providers eligible", x.state, x.modality, n, len(all))
			}
		}
		if refusedClaims < 40 {
			t.Fatalf("only %d ineligible claims tried", refusedClaims)
		}
		// At the limit: sees the TX async exam, may not claim it.
		r := e.must(409, e.do("POST", "/v1/provider/exams/"+exams[0].id+"/claim", bearer(e.providerToken(full.ID)), nil))
		if r.errorCode(t) != "claim_limit_reached" {
			t.Fatalf("claim at the limit: %s", r.Body)
		}
		// An eligible provider with room claims each exam.
		held := map[string]int{}
		for _, x := range exams {
			for _, p := range ps {
				if p.ID != full.ID && eligible(p, x) && held[p.ID] < 3 {
					held[p.ID]++
					e.must(200, e.do("POST", "/v1/provider/exams/"+x.id+"/claim", bearer(e.providerToken(p.ID)), nil))
					break
				}
			}
		}
	})
}
