package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/goodfaith/goodfaith/internal/app"
	"github.com/goodfaith/goodfaith/internal/app/localhome"
	"github.com/goodfaith/goodfaith/internal/audit"
	"github.com/goodfaith/goodfaith/internal/auth"
	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/httpapi"
	"github.com/goodfaith/goodfaith/internal/notify"
)

// Medical-director oversight (issue 11) over HTTP. clinic_c is directed by
// md_c, clinic_d by md_d (testdata/seed/e2e.json).
const (
	pkC = "pk_test_c"
	skC = "sk_test_cccccccccccccccccccccccccccc"
	skD = "sk_test_dddddddddddddddddddddddddddd"
)

func (e *env) directorToken(id string) string {
	e.t.Helper()
	return e.must(200, e.do("POST", "/dev/director-token", nil, map[string]string{"director_id": id})).json(e.t)["token"].(string)
}

// attest has md attest readiness for a treatment of clinic_c.
func (e *env) attest(md, treatment string, items ...string) {
	e.t.Helper()
	its := map[string]bool{}
	for _, it := range items {
		its[it] = true
	}
	e.must(201, e.do("PUT", "/v1/director/clinics/clinic_c/readiness/"+treatment, bearer(md),
		map[string]any{"items": its, "last_drill_on": time.Now().UTC().AddDate(0, 0, -7).Format(time.DateOnly)}))
}

// queuedAt takes a TX neurotoxin exam of the clinic of pk to the queue;
// flagged chooses whether the answers raise the pregnancy flag.
func (e *env) queuedAt(pk string, flagged bool) string {
	e.t.Helper()
	id, tok := e.readyDraftAt(pk, flagged)
	e.must(202, e.do("POST", "/v1/exams/"+id+"/submit", bearer(tok), nil))
	return id
}

// readyDraftAt is queuedAt short of the submit: a complete draft and its
// patient token.
func (e *env) readyDraftAt(pk string, flagged bool) (id, tok string) {
	e.t.Helper()
	r := e.must(201, e.do("POST", "/v1/exams", widget(pk), patientBody("TX", "neurotoxin"))).json(e.t)
	id, tok = r["exam"].(map[string]any)["id"].(string), r["patient_token"].(string)
	answers := neurotoxinAnswers(e.uploadPhoto(id, tok))
	answers["pregnant"] = flagged
	e.must(200, e.do("PUT", "/v1/exams/"+id+"/intake", bearer(tok), map[string]any{
		"answers": answers, "consents": map[string]bool{"telehealth": true, "privacy": true}, "modality": "async",
	}))
	return id, tok
}

func botoxApproval(product, dose string) map[string]any {
	return map[string]any{
		"outcome": "approved", "notes": "ok",
		"orders": []map[string]any{{"treatment": "neurotoxin", "product": product, "dose": dose, "route": "IM",
			"areas": []string{"glabella"}, "refills": 0, "valid_days": 180}},
		"attestation": map[string]bool{"accepted": true},
	}
}

// approve claims and approves an exam as prov_tx_md, returning the PSO.
func (e *env) approve(id string, body map[string]any) map[string]any {
	e.t.Helper()
	h := bearer(e.providerToken("prov_tx_md"))
	e.must(200, e.do("POST", "/v1/provider/exams/"+id+"/claim", h, nil))
	return e.must(201, e.do("POST", "/v1/provider/exams/"+id+"/decision", h, body)).json(e.t)["pso"].(map[string]any)
}

// psoDoc decodes the document signed in a JWS (its signature is checked by
// the PSO tests; here we read what it says).
func psoDoc(t *testing.T, jws string) map[string]any {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(jws, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatal(err)
	}
	return claims["pso"].(map[string]any)
}

func TestDirectorProductApproval(t *testing.T) {
	forEachHome(t, func(t *testing.T, open func(testing.TB, bool) *env) {
		e := open(t, false)
		md := e.directorToken("md_c")
		e.attest(md, "neurotoxin", "anaphylaxis_kit", "escalation_plan")
		h := bearer(e.providerToken("prov_tx_md"))
		id := e.queuedAt(pkC, false)
		e.must(200, e.do("POST", "/v1/provider/exams/"+id+"/claim", h, nil))
		// Unknown, unapproved (imported), wrong treatment, unlabelled route:
		// 422 and nothing written.
		for _, c := range []struct{ product, route, code string }{
			{"Snake oil toxin", "IM", "product_unknown"},
			{"Botulax", "IM", "product_not_approved"},
			{"Wegovy", "SC", "product_wrong_treatment"},
			{"Botox", "IV", "route_not_labelled"},
		} {
			body := botoxApproval(c.product, "20 units")
			body["orders"].([]map[string]any)[0]["route"] = c.route
			before := e.snapshot()
			r := e.must(422, e.do("POST", "/v1/provider/exams/"+id+"/decision", h, body))
			if r.errorCode(t) != c.code || r.errorField(t) != "orders[0].product" && c.code != "route_not_labelled" {
				t.Fatalf("%s: %s", c.product, r.Body)
			}
			e.assertUnchanged(before, c.product)
		}
		// Disabled by the director: 422, nothing written.
		e.must(200, e.do("PUT", "/v1/director/clinics/clinic_c/products/onabotulinumtoxina_botox_cosmetic", bearer(md), map[string]any{"enabled": false, "note": "we stock Dysport"}))
		before := e.snapshot()
		if r := e.must(422, e.do("POST", "/v1/provider/exams/"+id+"/decision", h, botoxApproval("Botox", "20 units"))); r.errorCode(t) != "product_not_enabled" {
			t.Fatalf("disabled: %s", r.Body)
		}
		e.assertUnchanged(before, "a disabled product")
		// Unapproved cannot be enabled; compounded needs the acknowledgement.
		if r := e.must(422, e.do("PUT", "/v1/director/clinics/clinic_c/products/botulinum_toxin_imported_unapproved", bearer(md), map[string]any{"enabled": true})); r.errorCode(t) != "product_not_approved" {
			t.Fatalf("enable imported: %s", r.Body)
		}
		if r := e.must(422, e.do("PUT", "/v1/director/clinics/clinic_c/products/semaglutide_compounded_503a", bearer(md), map[string]any{"enabled": true})); r.errorCode(t) != "compounded_acknowledgement_required" {
			t.Fatalf("enable compounded: %s", r.Body)
		}
		// The catalogue the director sees.
		ps := e.must(200, e.do("GET", "/v1/director/clinics/clinic_c/products", bearer(md), nil)).json(t)["products"].([]any)
		seen := map[string]map[string]any{}
		for _, p := range ps {
			seen[p.(map[string]any)["id"].(string)] = p.(map[string]any)
		}
		if seen["onabotulinumtoxina_botox_cosmetic"]["enabled"] != false || seen["abobotulinumtoxina_dysport"]["enabled"] != true || seen["bpc_157"]["orderable"] != false {
			t.Fatalf("products: %v %v %v", seen["onabotulinumtoxina_botox_cosmetic"], seen["abobotulinumtoxina_dysport"], seen["bpc_157"])
		}
		// An enabled approved product signs, and the PSO names it.
		r := e.must(201, e.do("POST", "/v1/provider/exams/"+id+"/decision", h, botoxApproval("Dysport (abobotulinumtoxinA)", "50 units")))
		order := psoDoc(t, r.json(t)["pso"].(map[string]any)["jws"].(string))["orders"].([]any)[0].(map[string]any)
		if order["product_id"] != "abobotulinumtoxina_dysport" || order["fda_status"] != "approved_biologic" {
			t.Fatalf("PSO order: %v", order)
		}
	})
}

func TestDirectorProtocolVersions(t *testing.T) {
	forEachHome(t, func(t *testing.T, open func(testing.TB, bool) *env) {
		e := open(t, false)
		md := bearer(e.directorToken("md_c"))
		e.attest(md["Authorization"][len("Bearer "):], "neurotoxin", "anaphylaxis_kit", "escalation_plan")
		proto := map[string]any{"treatment": "neurotoxin", "title": "Glabellar lines", "text": "Assess, consent, inject 5 sites.",
			"standing_order": map[string]any{"product": "onabotulinumtoxina_botox_cosmetic", "dose": "20 units", "route": "IM", "areas": []string{"glabella"}, "refills": 0, "valid_days": 180}}
		v1 := e.must(201, e.do("POST", "/v1/director/clinics/clinic_c/protocols", md, proto)).json(t)["protocol"].(map[string]any)
		if v1["version"] != 1.0 || v1["signature"] != nil {
			t.Fatalf("v1: %v", v1)
		}
		// Bad input: 422, nothing written.
		before := e.snapshot()
		bad := map[string]any{"treatment": "neurotoxin", "title": "x", "text": "y", "standing_order": map[string]any{"product": "bpc_157", "dose": "1", "route": "SC"}}
		e.must(422, e.do("POST", "/v1/director/clinics/clinic_c/protocols", md, bad))
		e.must(422, e.do("POST", "/v1/director/clinics/clinic_c/protocols/neurotoxin/versions/1/sign", md, map[string]any{"accepted": false, "name": "Morgan Hale"}))
		e.assertUnchanged(before, "refused protocol writes")
		e.must(404, e.do("POST", "/v1/director/clinics/clinic_c/protocols/neurotoxin/versions/9/sign", md, map[string]any{"accepted": true, "name": "Morgan Hale"}))

		// Unsigned v1 is not in force: the PSO cites no protocol.
		p0 := psoDoc(t, e.approve(e.queuedAt(pkC, false), botoxApproval("Botox", "20 units"))["jws"].(string))
		if p0["protocols"] != nil {
			t.Fatalf("an unsigned protocol was cited: %v", p0["protocols"])
		}
		e.must(200, e.do("POST", "/v1/director/clinics/clinic_c/protocols/neurotoxin/versions/1/sign", md, map[string]any{"accepted": true, "name": "Morgan Hale"}))
		if r := e.must(409, e.do("POST", "/v1/director/clinics/clinic_c/protocols/neurotoxin/versions/1/sign", md, map[string]any{"accepted": true, "name": "Morgan Hale"})); r.errorCode(t) != "already_signed" {
			t.Fatalf("re-sign: %s", r.Body)
		}
		// The provider's form is prefilled from the version in force.
		id1 := e.queuedAt(pkC, false)
		ph := bearer(e.providerToken("prov_tx_md"))
		e.must(404, e.do("GET", "/v1/provider/exams/"+id1+"/protocols", ph, nil)) // not held yet
		e.must(200, e.do("POST", "/v1/provider/exams/"+id1+"/claim", ph, nil))
		pre := e.must(200, e.do("GET", "/v1/provider/exams/"+id1+"/protocols", ph, nil)).json(t)
		if o := pre["orders"].([]any)[0].(map[string]any); o["product"] != "onabotulinumtoxina_botox_cosmetic" || o["dose"] != "20 units" {
			t.Fatalf("prefill: %v", pre)
		}
		r1 := e.must(201, e.do("POST", "/v1/provider/exams/"+id1+"/decision", ph, botoxApproval("Botox", "20 units"))).json(t)["pso"].(map[string]any)
		cite := func(pso map[string]any) map[string]any {
			ps, _ := psoDoc(t, pso["jws"].(string))["protocols"].([]any)
			if len(ps) != 1 {
				t.Fatalf("protocols cited: %v", ps)
			}
			return ps[0].(map[string]any)
		}
		if c := cite(r1); c["version"] != 1.0 || c["signed_by"] != "md_c" || c["deviations"] != nil || c["id"] != "proto_clinic_c_neurotoxin" {
			t.Fatalf("v1 cited: %v", c)
		}
		// v2 written but unsigned: v1 is still the version in force.
		proto["standing_order"].(map[string]any)["dose"] = "24 units"
		e.must(201, e.do("POST", "/v1/director/clinics/clinic_c/protocols", md, proto))
		if c := cite(e.approve(e.queuedAt(pkC, false), botoxApproval("Botox", "20 units"))); c["version"] != 1.0 {
			t.Fatalf("unsigned v2 cited: %v", c)
		}
		// Signed, v2 is in force; ordering 20 units is a recorded deviation.
		e.must(200, e.do("POST", "/v1/director/clinics/clinic_c/protocols/neurotoxin/versions/2/sign", md, map[string]any{"accepted": true, "name": "Morgan Hale"}))
		c := cite(e.approve(e.queuedAt(pkC, false), botoxApproval("Botox", "20 units")))
		if devs, _ := c["deviations"].([]any); c["version"] != 2.0 || len(devs) != 1 || !strings.Contains(devs[0].(string), `dose: protocol "24 units", ordered "20 units"`) {
			t.Fatalf("v2 cited: %v", c)
		}
		list := e.must(200, e.do("GET", "/v1/director/clinics/clinic_c/protocols", md, nil)).json(t)["protocols"].([]any)
		if nt := list[0].(map[string]any); nt["treatment"] != "neurotoxin" || nt["active"].(map[string]any)["version"] != 2.0 || len(nt["versions"].([]any)) != 2 {
			t.Fatalf("protocol list: %v", nt)
		}
		// The signature is audited under the director's role.
		recs, err := audit.ForExam(context.Background(), e.Store, "CLINIC#clinic_c")
		if err != nil {
			t.Fatal(err)
		}
		signed := 0
		for _, r := range recs {
			if r.Action == "protocol.sign" && r.Role == "medical_director" && r.Actor == "md_c" {
				signed++
			}
		}
		if signed != 2 {
			t.Fatalf("%d protocol.sign audit records, want 2: %+v", signed, recs)
		}
	})
}

// openWithClock is openEmbedded with an injected clock for the service.
func openWithClock(t *testing.T, clk clock.Clock) *env {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	local, err := localhome.Open(t.TempDir(), base, clk, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { local.Close() })
	return startWith(t, srv, local.Ports, local.PatientSecret, clk, local.BlobHandler())
}

func TestDirectorReadinessExpiry(t *testing.T) {
	forEachHomeWithClock(t, time.Now().UTC(), testReadinessExpiry)
}

func testReadinessExpiry(t *testing.T, e *env, clk *clock.Fake) {
	md := e.directorToken("md_c")
	w := hdr{"X-Goodfaith-Key": pkC, "Origin": "https://clinic-c.example"}
	treatments := func() []string {
		var out []string
		for _, tr := range e.must(200, e.do("GET", "/v1/widget/config", w, nil)).json(t)["treatments"].([]any) {
			out = append(out, tr.(map[string]any)["id"].(string))
		}
		return out
	}
	// Nothing attested: nothing offered, and an exam is refused with the reason.
	if got := treatments(); len(got) != 0 {
		t.Fatalf("offered without readiness: %v", got)
	}
	before := e.snapshot()
	r := e.must(422, e.do("POST", "/v1/exams", w, patientBody("TX", "neurotoxin")))
	assertPatientNotReady(t, r, "missing readiness")
	e.assertUnchanged(before, "an exam refused for readiness")
	// The filler attestation needs hyaluronidase and the occlusion protocol.
	r = e.must(422, e.do("PUT", "/v1/director/clinics/clinic_c/readiness/dermal_filler", bearer(md), map[string]any{
		"items": map[string]bool{"anaphylaxis_kit": true, "escalation_plan": true}, "last_drill_on": clk.Now().Format(time.DateOnly)}))
	if r.errorCode(t) != "readiness_item_missing" {
		t.Fatalf("filler: %s", r.Body)
	}
	e.attest(md, "neurotoxin", "anaphylaxis_kit", "escalation_plan")
	if got := treatments(); strings.Join(got, ",") != "neurotoxin" {
		t.Fatalf("offered %v", got)
	}
	e.must(201, e.do("POST", "/v1/exams", w, patientBody("TX", "neurotoxin")))
	// The dashboard says why the others are not offered.
	ov := e.must(200, e.do("GET", "/v1/clinic/oversight", bearer(skC), nil)).json(t)
	status := map[string]map[string]any{}
	for _, x := range ov["readiness"].([]any) {
		status[x.(map[string]any)["treatment"].(string)] = x.(map[string]any)
	}
	if status["neurotoxin"]["status"] != "ready" || status["dermal_filler"]["status"] != "missing" || !strings.Contains(status["dermal_filler"]["reason"].(string), "Hyaluronidase") {
		t.Fatalf("oversight: %v", ov["readiness"])
	}
	if ds := ov["medical_directors"].([]any); len(ds) != 1 || ds[0].(map[string]any)["id"] != "md_c" {
		t.Fatalf("directors: %v", ds)
	}
	// Twelve months on, the attestation has expired.
	clk.Advance(366 * 24 * time.Hour)
	if got := treatments(); len(got) != 0 {
		t.Fatalf("offered after expiry: %v", got)
	}
	r = e.must(422, e.do("POST", "/v1/exams", w, patientBody("TX", "neurotoxin")))
	assertPatientNotReady(t, r, "expired readiness")
	st := e.must(200, e.do("GET", "/v1/director/clinics/clinic_c/readiness", bearer(md), nil)).json(t)["readiness"].([]any)
	if st[0].(map[string]any)["status"] != "expired" {
		t.Fatalf("director's readiness: %v", st)
	}
	// Clinics without a director are not held to readiness (clinic_a).
	e.must(201, e.do("POST", "/v1/exams", widget(pkA), patientBody("TX", "neurotoxin")))
}

func TestDirectorChartReview(t *testing.T) {
	forEachHome(t, func(t *testing.T, open func(testing.TB, bool) *env) {
		e := open(t, false)
		md := bearer(e.directorToken("md_c"))
		e.attest(md["Authorization"][len("Bearer "):], "neurotoxin", "anaphylaxis_kit", "escalation_plan")
		// The smallest share: only flagged exams are (all but surely) sampled.
		e.must(422, e.do("PUT", "/v1/director/clinics/clinic_c/settings", md, map[string]any{"review_percent": 0}))
		e.must(200, e.do("PUT", "/v1/director/clinics/clinic_c/settings", md, map[string]any{"review_percent": 0.01}))
		flagged := e.queuedAt(pkC, true)
		e.approve(flagged, botoxApproval("Botox", "20 units"))
		q := e.must(200, e.do("GET", "/v1/director/clinics/clinic_c/reviews", md, nil)).json(t)
		items := q["items"].([]any)
		if len(items) != 1 || items[0].(map[string]any)["exam_id"] != flagged || items[0].(map[string]any)["reason"] != "flagged" {
			t.Fatalf("queue: %v", q)
		}
		// Everything sampled at 100%.
		e.must(200, e.do("PUT", "/v1/director/clinics/clinic_c/settings", md, map[string]any{"review_percent": 100}))
		plain := e.queuedAt(pkC, false)
		e.approve(plain, botoxApproval("Botox", "20 units"))
		q = e.must(200, e.do("GET", "/v1/director/clinics/clinic_c/reviews", md, nil)).json(t)
		if tot := q["totals"].(map[string]any); tot["decided"] != 2.0 || tot["sampled"] != 2.0 || tot["reviewed"] != 0.0 || tot["completion"] != 0.0 {
			t.Fatalf("totals: %v", tot)
		}
		// The director reads the chart (audited) and records reviews.
		chart := e.must(200, e.do("GET", "/v1/director/clinics/clinic_c/reviews/"+flagged, md, nil)).json(t)
		if chart["exam"].(map[string]any)["id"] != flagged || chart["decision"] == nil {
			t.Fatalf("chart: %v", chart)
		}
		before := e.snapshot()
		e.must(422, e.do("PUT", "/v1/director/clinics/clinic_c/reviews/"+flagged, md, map[string]any{"verdict": "concern"})) // a concern needs a note
		e.must(422, e.do("PUT", "/v1/director/clinics/clinic_c/reviews/"+flagged, md, map[string]any{"verdict": "meh", "note": "x"}))
		e.assertUnchanged(before, "refused reviews")
		e.must(201, e.do("PUT", "/v1/director/clinics/clinic_c/reviews/"+flagged, md, map[string]any{"verdict": "concern", "note": "Pregnancy flag: document the wait advice."}))
		e.must(409, e.do("PUT", "/v1/director/clinics/clinic_c/reviews/"+flagged, md, map[string]any{"verdict": "agree"}))
		e.must(201, e.do("PUT", "/v1/director/clinics/clinic_c/reviews/"+plain, md, map[string]any{"verdict": "agree"}))
		ov := e.must(200, e.do("GET", "/v1/clinic/oversight", bearer(skC), nil)).json(t)["chart_review"].(map[string]any)
		if tot := ov["totals"].(map[string]any); tot["reviewed"] != 2.0 || tot["concerns"] != 1.0 || tot["completion"] != 1.0 {
			t.Fatalf("completion: %v", ov)
		}
		if p := ov["providers"].([]any)[0].(map[string]any); p["provider_id"] != "prov_tx_md" || p["reviewed"] != 2.0 {
			t.Fatalf("per provider: %v", p)
		}
		recs, _ := audit.ForExam(context.Background(), e.Store, flagged)
		var actions []string
		for _, r := range recs {
			if r.Role == "medical_director" {
				actions = append(actions, r.Action)
			}
		}
		if strings.Join(actions, ",") != "chart_review.read,chart_review.record" {
			t.Fatalf("director audit of the exam: %v", actions)
		}
		// An exam of another clinic is not in this queue.
		other, _ := e.queued()
		e.must(404, e.do("GET", "/v1/director/clinics/clinic_c/reviews/"+other, md, nil))
		// Clinic D's oversight and its director's queue show nothing of clinic C.
		ovD := e.must(200, e.do("GET", "/v1/clinic/oversight", bearer(skD), nil)).json(t)
		if tot := ovD["chart_review"].(map[string]any)["totals"].(map[string]any); tot["decided"] != 0.0 || tot["sampled"] != 0.0 {
			t.Fatalf("clinic_d's chart review: %v", tot)
		}
		if ds := ovD["medical_directors"].([]any); len(ds) != 1 || ds[0].(map[string]any)["id"] != "md_d" {
			t.Fatalf("clinic_d's directors: %v", ds)
		}
		if items := e.must(200, e.do("GET", "/v1/director/clinics/clinic_d/reviews", bearer(e.directorToken("md_d")), nil)).json(t)["items"].([]any); len(items) != 0 {
			t.Fatalf("md_d's queue: %v", items)
		}
	})
}

func TestDirectorAdverseEventsAndRevocation(t *testing.T) {
	forEachHome(t, func(t *testing.T, open func(testing.TB, bool) *env) {
		e := open(t, false)
		md := bearer(e.directorToken("md_c"))
		e.attest(md["Authorization"][len("Bearer "):], "neurotoxin", "anaphylaxis_kit", "escalation_plan")
		id := e.queuedAt(pkC, false)
		psoID := e.approve(id, botoxApproval("Botox", "20 units"))["id"].(string)
		ev := map[string]any{"exam_id": id, "type": "ptosis", "severity": "moderate", "occurred_at": time.Now().UTC().Add(-time.Hour).Format(time.RFC3339),
			"description": "Left eyelid ptosis two weeks after treatment.", "actions": "=apraclonidine drops; follow-up in 1 week"}
		// Bad input and another clinic's exam: 422, nothing written.
		before := e.snapshot()
		for name, bad := range map[string]map[string]any{
			"type": {"type": "bad"}, "severity": {"severity": "huge"}, "time": {"occurred_at": "yesterday"},
			"future": {"occurred_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}, "pso": {"pso_id": "pso_nope"},
		} {
			b := map[string]any{}
			for k, v := range ev {
				b[k] = v
			}
			for k, v := range bad {
				b[k] = v
			}
			if r := e.do("POST", "/v1/clinic/adverse-events", bearer(skC), b); r.Status != 422 {
				t.Fatalf("%s: %d %s", name, r.Status, r.Body)
			}
		}
		if r := e.must(422, e.do("POST", "/v1/clinic/adverse-events", bearer(skD), ev)); r.errorCode(t) != "unknown_exam" {
			t.Fatalf("other clinic's exam: %s", r.Body)
		}
		e.assertUnchanged(before, "refused adverse events")
		rec := e.must(201, e.do("POST", "/v1/clinic/adverse-events", bearer(skC), ev)).json(t)["adverse_event"].(map[string]any)
		if rec["pso_id"] != psoID || rec["recorded_by"] != "clinic_c" {
			t.Fatalf("event: %v", rec)
		}
		// The director is notified, without patient details.
		msgs, err := notify.Outbox{Store: e.Store, Log: quietLog()}.List(context.Background(), 50)
		if err != nil {
			t.Fatal(err)
		}
		var toMD []notify.Message
		for _, m := range msgs {
			if m.To == "md_c" {
				toMD = append(toMD, m)
			}
		}
		if len(toMD) != 1 || !strings.Contains(toMD[0].Body, id) || strings.Contains(toMD[0].Body+toMD[0].Subject, "García") || strings.Contains(toMD[0].Body, "eyelid") {
			t.Fatalf("notification: %+v", toMD)
		}
		// Export: JSON and CSV, for the director and the clinic; not for clinic_d.
		list := e.must(200, e.do("GET", "/v1/director/clinics/clinic_c/adverse-events", md, nil)).json(t)["items"].([]any)
		if len(list) != 1 || list[0].(map[string]any)["type"] != "ptosis" {
			t.Fatalf("list: %v", list)
		}
		csv := e.must(200, e.do("GET", "/v1/director/clinics/clinic_c/adverse-events?format=csv", md, nil))
		if !strings.HasPrefix(csv.Header.Get("Content-Type"), "text/csv") || !strings.Contains(string(csv.Body), id) || !strings.Contains(string(csv.Body), "'=apraclonidine") {
			t.Fatalf("csv: %s", csv.Body)
		}
		e.must(200, e.do("GET", "/v1/clinic/adverse-events?format=csv", bearer(skC), nil))
		e.must(422, e.do("GET", "/v1/clinic/adverse-events?format=xml", bearer(skC), nil))
		if items := e.must(200, e.do("GET", "/v1/clinic/adverse-events", bearer(skD), nil)).json(t)["items"].([]any); len(items) != 0 {
			t.Fatalf("clinic_d sees %v", items)
		}

		// The director revokes the PSO; the revocation names them.
		other := bearer(e.directorToken("md_d"))
		e.must(404, e.do("POST", "/v1/director/clinics/clinic_c/psos/"+psoID+"/revoke", other, map[string]any{"reason": "x"}))
		e.must(404, e.do("POST", "/v1/director/clinics/clinic_d/psos/"+psoID+"/revoke", other, map[string]any{"reason": "x"}))
		e.must(422, e.do("POST", "/v1/director/clinics/clinic_c/psos/"+psoID+"/revoke", md, map[string]any{"reason": " "}))
		rv := e.must(200, e.do("POST", "/v1/director/clinics/clinic_c/psos/"+psoID+"/revoke", md, map[string]any{"reason": "adverse event under review"})).json(t)
		if r := rv["pso"].(map[string]any)["revocation"].(map[string]any); r["revoked_by"] != "md_c" || r["role"] != "medical_director" {
			t.Fatalf("revocation: %v", rv)
		}
		e.must(409, e.do("POST", "/v1/director/clinics/clinic_c/psos/"+psoID+"/revoke", md, map[string]any{"reason": "again"}))
		if st := e.must(200, e.do("GET", "/v1/psos/"+psoID, nil, nil)).json(t)["pso"].(map[string]any); st["status"] != "revoked" {
			t.Fatalf("public status: %v", st)
		}
	})
}

// TestDirectorTenancy: another clinic's director, providers, clinic keys and
// forged tokens get nothing from a director's routes.
func TestDirectorTenancy(t *testing.T) {
	forEachHome(t, func(t *testing.T, open func(testing.TB, bool) *env) {
		e := open(t, false)
		mdC, mdD := e.directorToken("md_c"), e.directorToken("md_d")
		paths := []struct {
			method, path string
			body         any
		}{
			{"GET", "/products", nil},
			{"PUT", "/products/abobotulinumtoxina_dysport", map[string]any{"enabled": false}},
			{"GET", "/protocols", nil},
			{"POST", "/protocols", map[string]any{"treatment": "neurotoxin", "title": "t", "text": "x", "standing_order": map[string]any{"product": "abobotulinumtoxina_dysport", "dose": "50 units", "route": "IM"}}},
			{"POST", "/protocols/neurotoxin/versions/1/sign", map[string]any{"accepted": true, "name": "x"}},
			{"GET", "/readiness", nil},
			{"PUT", "/readiness/neurotoxin", map[string]any{"items": map[string]bool{"anaphylaxis_kit": true, "escalation_plan": true}, "last_drill_on": time.Now().UTC().Format(time.DateOnly)}},
			{"POST", "/readiness/neurotoxin/revoke", map[string]any{"reason": "x"}},
			{"GET", "/settings", nil},
			{"PUT", "/settings", map[string]any{"review_percent": 50}},
			{"GET", "/reviews", nil},
			{"GET", "/reviews/exam_x", nil},
			{"PUT", "/reviews/exam_x", map[string]any{"verdict": "agree"}},
			{"GET", "/adverse-events", nil},
			{"POST", "/psos/pso_x/revoke", map[string]any{"reason": "x"}},
		}
		before := e.snapshot()
		for _, p := range paths {
			// md_d does not direct clinic_c (nor clinic_a, which has none).
			for _, clinic := range []string{"clinic_c", "clinic_a", "clinic_nope"} {
				if r := e.do(p.method, "/v1/director/clinics/"+clinic+p.path, bearer(mdD), p.body); r.Status != 404 {
					t.Fatalf("md_d %s %s%s: %d %s", p.method, clinic, p.path, r.Status, r.Body)
				}
			}
			// Other credentials are not a director's.
			for name, tok := range map[string]string{"provider": e.providerToken("prov_tx_md"), "clinic key": skC, "garbage": "x.y.z"} {
				if r := e.do(p.method, "/v1/director/clinics/clinic_c"+p.path, bearer(tok), p.body); r.Status != 401 {
					t.Fatalf("%s on %s %s: %d %s", name, p.method, p.path, r.Status, r.Body)
				}
			}
		}
		e.assertUnchanged(before, "refused director calls")
		// Each director lists only the clinics they direct.
		cs := e.must(200, e.do("GET", "/v1/director/clinics", bearer(mdD), nil)).json(t)
		if ids := cs["clinics"].([]any); len(ids) != 1 || ids[0].(map[string]any)["id"] != "clinic_d" || cs["director"].(map[string]any)["id"] != "md_d" {
			t.Fatalf("md_d's clinics: %v", cs)
		}
		for _, tok := range []string{e.providerToken("prov_tx_md"), skC, "x.y.z"} {
			e.must(401, e.do("GET", "/v1/director/clinics", bearer(tok), nil))
		}
		// A director's token is not a provider's, nor a clinic's.
		e.must(401, e.do("GET", "/v1/provider/queue", bearer(mdC), nil))
		e.must(401, e.do("GET", "/v1/clinic/exams", bearer(mdC), nil))
		// md_d's own clinic works, and shows nothing of clinic_c.
		e.must(200, e.do("PUT", "/v1/director/clinics/clinic_c/settings", bearer(mdC), map[string]any{"review_percent": 50}))
		st := e.must(200, e.do("GET", "/v1/director/clinics/clinic_d/settings", bearer(mdD), nil)).json(t)["settings"].(map[string]any)
		if st["review_percent"] != 10.0 {
			t.Fatalf("clinic_d settings: %v", st)
		}
		e.must(422, e.do("POST", "/dev/director-token", nil, map[string]string{"director_id": "md_nobody"}))
	})
}

// startWith is start (harness_test.go) with the service's clock injected
// and no consumers.
func startWith(t *testing.T, srv *httptest.Server, ports app.Ports, patientSecret []byte, clk clock.Clock, blobs http.Handler) *env {
	t.Helper()
	base := "http://" + srv.Listener.Addr().String()
	issuer, err := auth.NewDevIssuer(auth.DevIssuerConfig{Dir: t.TempDir(), Issuer: base + "/dev"})
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := issuer.Verifier()
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(ports, app.Settings{
		Clock: clk, Log: quietLog(), PatientSecret: patientSecret, TokenIssuer: base, Providers: verifier,
		PublicOrigin: base, VerifyBaseURL: base + "/v1/psos/", DevIssuer: issuer, DevWebhooks: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.LoadSeed(context.Background(), seed); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	if blobs != nil { // the AWS home's uploads go to MinIO
		mux.Handle(localhome.BlobsPath, blobs)
	}
	mux.Handle("/", a.Handler(httpapi.AllAudiences...))
	srv.Config.Handler = mux
	srv.Start()
	t.Cleanup(srv.Close)
	return &env{t: t, URL: base, App: a, Store: ports.Store, Issuer: issuer, client: srv.Client()}
}

// forEachHomeWithClock runs fn on both homes, each on a fresh fake clock
// starting at start (the service's, the stores' and the blobs' clock;
// tokens from the dev issuer keep real time).
func forEachHomeWithClock(t *testing.T, start time.Time, fn func(t *testing.T, e *env, clk *clock.Fake)) {
	t.Run("embedded", func(t *testing.T) {
		clk := clock.NewFake(start)
		fn(t, openWithClock(t, clk), clk)
	})
	t.Run("aws", func(t *testing.T) {
		clk := clock.NewFake(start)
		a := newAWSApp(t, clk)
		fn(t, startWith(t, httptest.NewUnstartedServer(nil), a.Ports, awsPatientSecret, clk, nil), clk)
	})
}

// TestDirectorReadinessLapseStopsSubmitAndApproval: an attestation that
// expires or is revoked after an exam began stops its submit and its
// approval with 422 naming the treatment and the items to attest, and
// nothing is written; a deferral still goes through, and a new attestation
// lets the exam continue.
func TestDirectorReadinessLapseStopsSubmitAndApproval(t *testing.T) {
	realNow := time.Now().UTC()
	// The attestation is made a month back and is valid one month, so it
	// expires three hours from now; photos are uploaded at the real time
	// (MinIO refuses URLs signed for the future).
	forEachHomeWithClock(t, realNow.AddDate(0, -1, 0).Add(3*time.Hour), func(t *testing.T, e *env, clk *clock.Fake) {
		md := bearer(e.directorToken("md_c"))
		attest := func(months int) {
			e.must(201, e.do("PUT", "/v1/director/clinics/clinic_c/readiness/neurotoxin", md, map[string]any{
				"items": map[string]bool{"anaphylaxis_kit": true, "escalation_plan": true}, "valid_months": months,
				"last_drill_on": clk.Now().AddDate(0, 0, -1).Format(time.DateOnly)}))
		}
		attest(1)
		clk.Set(realNow)
		queuedA, queuedC := e.queuedAt(pkC, false), e.queuedAt(pkC, false)
		draftB, tokB := e.readyDraftAt(pkC, false)
		draftD, tokD := e.readyDraftAt(pkC, false) // submitted after the revocation
		ph := bearer(e.providerToken("prov_tx_md"))
		e.must(200, e.do("POST", "/v1/provider/exams/"+queuedA+"/claim", ph, nil))
		e.must(200, e.do("POST", "/v1/provider/exams/"+queuedC+"/claim", ph, nil))
		notReady := func(r res, status, what string) {
			t.Helper()
			body := string(r.Body)
			if r.errorCode(t) != "treatment_not_ready" || r.errorField(t) != "treatments[0]" || !strings.Contains(body, "Neurotoxin") ||
				!strings.Contains(body, status) || !strings.Contains(body, "Anaphylaxis kit") || !strings.Contains(body, `"missing_items":["anaphylaxis_kit","escalation_plan"]`) {
				t.Fatalf("%s: %s", what, body)
			}
		}

		// Four hours on, the attestation has expired.
		clk.Advance(4 * time.Hour)
		before := e.snapshot()
		assertPatientNotReady(t, e.must(422, e.do("POST", "/v1/exams/"+draftB+"/submit", bearer(tokB), nil)), "submit after expiry")
		notReady(e.must(422, e.do("POST", "/v1/provider/exams/"+queuedA+"/decision", ph, botoxApproval("Botox", "20 units"))), "expired on", "approval after expiry")
		e.assertUnchanged(before, "a submit and an approval refused for lapsed readiness")
		if st := e.must(200, e.do("GET", "/v1/provider/exams/"+queuedA, ph, nil)).json(t)["exam"].(map[string]any)["status"]; st != "claimed" {
			t.Fatalf("exam A after the refused approval: %v", st)
		}

		// Attested again: both go through.
		attest(12)
		e.must(202, e.do("POST", "/v1/exams/"+draftB+"/submit", bearer(tokB), nil))
		e.must(201, e.do("POST", "/v1/provider/exams/"+queuedA+"/decision", ph, botoxApproval("Botox", "20 units")))

		// Revoked: the approval is refused again, with the director's reason;
		// deferring is still possible.
		other := bearer(e.directorToken("md_d"))
		e.must(404, e.do("POST", "/v1/director/clinics/clinic_c/readiness/neurotoxin/revoke", other, map[string]any{"reason": "x"}))
		e.must(422, e.do("POST", "/v1/director/clinics/clinic_c/readiness/neurotoxin/revoke", md, map[string]any{"reason": " "}))
		e.must(404, e.do("POST", "/v1/director/clinics/clinic_c/readiness/dermal_filler/revoke", md, map[string]any{"reason": "x"}))
		e.must(200, e.do("POST", "/v1/director/clinics/clinic_c/readiness/neurotoxin/revoke", md, map[string]any{"reason": "epinephrine used on " + patientMarker + ", kit restocking"}))
		e.must(409, e.do("POST", "/v1/director/clinics/clinic_c/readiness/neurotoxin/revoke", md, map[string]any{"reason": "again"}))
		before = e.snapshot()
		r := e.must(422, e.do("POST", "/v1/provider/exams/"+queuedC+"/decision", ph, botoxApproval("Botox", "20 units")))
		notReady(r, "revoked", "approval after revocation")
		if !strings.Contains(string(r.Body), "epinephrine used on "+patientMarker+", kit restocking") {
			t.Fatalf("the reason is not given: %s", r.Body)
		}
		// The patient, at submit and at a new exam, reads neither the
		// director's reason nor the items to attest.
		assertPatientNotReady(t, e.must(422, e.do("POST", "/v1/exams/"+draftD+"/submit", bearer(tokD), nil)), "submit after revocation")
		assertPatientNotReady(t, e.must(422, e.do("POST", "/v1/exams", hdr{"X-Goodfaith-Key": pkC, "Origin": "https://clinic-c.example"}, patientBody("TX", "neurotoxin"))), "new exam after revocation")
		e.assertUnchanged(before, "an approval, a submit and an exam refused for revoked readiness")
		e.must(200, e.do("POST", "/v1/provider/exams/"+queuedC+"/decision", ph, map[string]any{"outcome": "deferred", "reason": "clinic not ready for emergencies"}))
		cfg := e.must(200, e.do("GET", "/v1/widget/config", hdr{"X-Goodfaith-Key": pkC, "Origin": "https://clinic-c.example"}, nil)).json(t)
		if ts := cfg["treatments"].([]any); len(ts) != 0 {
			t.Fatalf("offered after revocation: %v", ts)
		}
		ov := e.must(200, e.do("GET", "/v1/clinic/oversight", bearer(skC), nil)).json(t)["readiness"].([]any)
		if nt := ov[0].(map[string]any); nt["treatment"] != "neurotoxin" || nt["status"] != "revoked" || !strings.Contains(nt["reason"].(string), "revoked") ||
			!strings.Contains(nt["reason"].(string), patientMarker) || !strings.Contains(nt["reason"].(string), "Anaphylaxis kit") {
			t.Fatalf("dashboard readiness: %v", nt)
		}
	})
}

// patientMarker stands for patient details a director might write in a
// revoke reason; it must reach staff and never a patient.
const patientMarker = "PATIENT-MARKER-7731"

// assertPatientNotReady checks a patient's treatment_not_ready refusal:
// the code, the field and the treatment, in a generic sentence without the
// director's reason, the readiness status or the items to attest.
func assertPatientNotReady(t *testing.T, r res, what string) {
	t.Helper()
	body := string(r.Body)
	if r.errorCode(t) != "treatment_not_ready" || r.errorField(t) != "treatments[0]" ||
		!strings.Contains(body, "This clinic cannot offer Neurotoxin (e.g. botulinum toxin) online right now.") || !strings.Contains(body, `"treatment":"neurotoxin"`) {
		t.Fatalf("%s: %s", what, body)
	}
	for _, leak := range []string{patientMarker, "restocking", "Anaphylaxis", "anaphylaxis_kit", "escalation", "missing_items", "revoked", "expired", "attest"} {
		if strings.Contains(strings.ToLower(body), strings.ToLower(leak)) {
			t.Fatalf("%s: the patient's refusal names %q: %s", what, leak, body)
		}
	}
}
