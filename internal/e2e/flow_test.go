package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/goodfaith/goodfaith/internal/audit"
	"github.com/goodfaith/goodfaith/internal/blob"
	"github.com/goodfaith/goodfaith/internal/jwk"
	"github.com/goodfaith/goodfaith/internal/notify"
	"github.com/goodfaith/goodfaith/internal/pso"
)

const (
	pkA = "pk_test_a"
	skA = "sk_test_aaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	skB = "sk_test_bbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

func patientBody(state string, treatments ...string) map[string]any {
	return map[string]any{
		"patient": map[string]any{
			"first_name": "Maria <script>alert(1)</script>", "last_name": "García", "dob": "1990-04-12",
			"email": "maria@example.com", "phone": "+1 512 555 0100", "state": state,
		},
		"treatments": treatments,
		"modality":   "async",
	}
}

// neurotoxinAnswers completes the neurotoxin questionnaire, raising the
// pregnancy flag.
func neurotoxinAnswers(photoID string) map[string]any {
	return map[string]any{
		"pregnant": true, "breastfeeding": false, "allergies": false,
		"medications": "none", "conditions": "none",
		"neuromuscular_disease": false, "toxin_allergy": false, "site_infection": false, "aminoglycosides": false,
		"photos": []string{photoID},
	}
}

// draft creates an exam in TX and returns its id and patient token.
func (e *env) draft(treatments ...string) (string, string) {
	e.t.Helper()
	if len(treatments) == 0 {
		treatments = []string{"neurotoxin"}
	}
	r := e.must(201, e.do("POST", "/v1/exams", widget(pkA), patientBody("TX", treatments...))).json(e.t)
	ex := r["exam"].(map[string]any)
	return ex["id"].(string), r["patient_token"].(string)
}

// uploadPhoto reserves an attachment and uploads its bytes to the URL given.
func (e *env) uploadPhoto(examID, tok string) string {
	e.t.Helper()
	img := bytes.Repeat([]byte{0xFF, 0xD8, 0xFF}, 100)
	r := e.must(201, e.do("POST", "/v1/exams/"+examID+"/attachments", bearer(tok),
		map[string]any{"kind": "photo", "content_type": "image/jpeg", "size": len(img)})).json(e.t)
	req, err := http.NewRequest(r["method"].(string), r["upload_url"].(string), bytes.NewReader(img))
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range r["headers"].(map[string]any) {
		req.Header.Set(k, v.(string))
	}
	req.ContentLength = int64(len(img))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		e.t.Fatalf("upload: status %d", resp.StatusCode)
	}
	return r["attachment_id"].(string)
}

// queued takes a TX neurotoxin exam to the queue.
func (e *env) queued() (string, string) {
	e.t.Helper()
	id, tok := e.draft()
	photo := e.uploadPhoto(id, tok)
	e.must(200, e.do("PUT", "/v1/exams/"+id+"/intake", bearer(tok), map[string]any{
		"answers": neurotoxinAnswers(photo), "consents": map[string]bool{"telehealth": true, "privacy": true}, "modality": "async",
	}))
	e.must(202, e.do("POST", "/v1/exams/"+id+"/submit", bearer(tok), nil))
	return id, tok
}

var approval = map[string]any{
	"outcome": "approved", "notes": "Discussed risks; no contraindication besides reported pregnancy plan, advised to wait.",
	"orders": []map[string]any{{
		"treatment": "neurotoxin", "product": "onabotulinumtoxinA (Botox Cosmetic)", "dose": "20 units",
		"route": "intramuscular", "areas": []string{"glabella"}, "frequency": "every 12 weeks as needed",
		"quantity": 20, "refills": 3, "valid_days": 180,
	}},
	"attestation": map[string]bool{"accepted": true},
}

func TestAsyncExamEndToEnd(t *testing.T) {
	forEachHome(t, func(t *testing.T, open func(testing.TB, bool) *env) {
		e := open(t, true)
		// The widget sees what the clinic offers.
		cfg := e.must(200, e.do("GET", "/v1/widget/config", hdr{"X-Goodfaith-Key": pkA, "Origin": "https://clinic-a.example"}, nil)).json(t)
		if qs := cfg["questionnaires"].(map[string]any); qs["neurotoxin"] == nil {
			t.Fatalf("config lacks the neurotoxin questionnaire")
		}
		if !containsString(cfg["states"].([]any), "TX") {
			t.Fatalf("config lacks TX")
		}

		id, tok := e.draft()
		got := e.must(200, e.do("GET", "/v1/exams/"+id, bearer(tok), nil)).json(t)["exam"].(map[string]any)
		if got["status"] != "draft" || !containsString(got["modalities_allowed"].([]any), "async") {
			t.Fatalf("draft = %v", got)
		}
		photo := e.uploadPhoto(id, tok)
		e.must(200, e.do("PUT", "/v1/exams/"+id+"/intake", bearer(tok), map[string]any{
			"answers": neurotoxinAnswers(photo), "consents": map[string]bool{"telehealth": true, "privacy": true}, "modality": "async",
		}))
		// A new exam is offered to the eligible providers who are online.
		for _, p := range []string{"prov_tx_md", "prov_tx_np", "prov_ca_md", "prov_tx_rn", "prov_tx_expired"} {
			e.must(200, e.do("PUT", "/v1/provider/presence", bearer(e.providerToken(p)), map[string]bool{"online": true}))
		}
		sub := e.must(202, e.do("POST", "/v1/exams/"+id+"/submit", bearer(tok), nil)).json(t)["exam"].(map[string]any)
		if sub["status"] != "queued" {
			t.Fatalf("after submit: %v", sub["status"])
		}

		// The dispatch consumer tells eligible online providers, from the change feed.
		outbox := notify.Outbox{Store: e.Store}
		eventually(t, "dispatch notifications", func() bool {
			msgs, err := outbox.List(context.Background(), 50)
			if err != nil {
				t.Fatal(err)
			}
			to := map[string]bool{}
			for _, m := range msgs {
				to[m.To] = true
			}
			return to["prov_tx_md"] && to["prov_tx_np"] && !to["prov_ca_md"] && !to["prov_tx_rn"] && !to["prov_tx_expired"]
		})

		md := bearer(e.providerToken("prov_tx_md"))
		queue := e.must(200, e.do("GET", "/v1/provider/queue", md, nil)).json(t)["items"].([]any)
		if len(queue) != 1 || queue[0].(map[string]any)["exam_id"] != id {
			t.Fatalf("queue = %v", queue)
		}
		if flags := queue[0].(map[string]any)["flags"].([]any); len(flags) != 1 || flags[0].(map[string]any)["code"] != "pregnancy" {
			t.Fatalf("queue flags = %v", flags)
		}
		claimed := e.must(200, e.do("POST", "/v1/provider/exams/"+id+"/claim", md, nil)).json(t)["exam"].(map[string]any)
		if claimed["status"] != "claimed" || claimed["provider_id"] != "prov_tx_md" {
			t.Fatalf("claim = %v", claimed)
		}
		full := e.must(200, e.do("GET", "/v1/provider/exams/"+id, md, nil)).json(t)["exam"].(map[string]any)
		if full["patient"].(map[string]any)["last_name"] != "García" || len(full["attachments"].([]any)) != 1 {
			t.Fatalf("provider view = %v", full)
		}
		dl := e.must(200, e.do("GET", "/v1/provider/exams/"+id+"/attachments/"+photo, md, nil)).json(t)
		if resp, err := http.Get(dl["url"].(string)); err != nil || resp.StatusCode != 200 {
			t.Fatalf("photo download: %v %v", resp, err)
		}

		dec := e.must(201, e.do("POST", "/v1/provider/exams/"+id+"/decision", md, approval)).json(t)
		if ex := dec["exam"].(map[string]any); ex["status"] != "decided" || ex["outcome"] != "approved" {
			t.Fatalf("decision exam = %v", ex)
		}
		p := dec["pso"].(map[string]any)
		jws := p["jws"].(string)
		if p["sha256"] != sha256Hex(jws) || p["valid_until"] == "" {
			t.Fatalf("pso = %v", p)
		}

		// Anyone verifies it with the served JWKS alone.
		var keys jwk.Set
		if err := json.Unmarshal(e.must(200, e.do("GET", "/.well-known/jwks.json", nil, nil)).Body, &keys); err != nil {
			t.Fatal(err)
		}
		v := pso.Verify(jws, keys, time.Now())
		if !v.Valid || v.Doc.ExamID != id || v.Doc.Patient.LastName != "García" || v.Doc.Provider.LicenseNumber != "TX-Q1234" || v.Doc.Orders[0].Quantity != "20" {
			t.Fatalf("offline verification = %+v", v)
		}
		ver := e.must(200, e.do("POST", "/v1/psos/verify", nil, map[string]string{"jws": jws})).json(t)
		if ver["valid"] != true || ver["pso"].(map[string]any)["clinic_id"] != "clinic_a" {
			t.Fatalf("verify = %v", ver)
		}
		tampered := jws[:len(jws)-5] + flip(jws[len(jws)-5:len(jws)-4]) + jws[len(jws)-4:]
		if ver := e.must(200, e.do("POST", "/v1/psos/verify", nil, map[string]string{"jws": tampered})).json(t); ver["valid"] != false || ver["reason"] == "" {
			t.Fatalf("tampered verify = %v", ver)
		}

		// The clinic reads the exam and the PSO.
		clinic := bearer(skA)
		cex := e.must(200, e.do("GET", "/v1/clinic/exams/"+id, clinic, nil)).json(t)["exam"].(map[string]any)
		psoRef := cex["pso"].(map[string]any)
		if cex["outcome"] != "approved" || psoRef["id"] != p["id"] {
			t.Fatalf("clinic exam = %v", cex)
		}
		cp := e.must(200, e.do("GET", "/v1/clinic/psos/"+psoRef["id"].(string), clinic, nil)).json(t)["pso"].(map[string]any)
		if cp["jws"] != jws || cp["exam_id"] != id || cp["sha256"] != p["sha256"] {
			t.Fatalf("clinic pso = %v", cp)
		}
		list := e.must(200, e.do("GET", "/v1/clinic/exams?status=decided", clinic, nil)).json(t)["items"].([]any)
		if len(list) != 1 || list[0].(map[string]any)["id"] != id {
			t.Fatalf("clinic list = %v", list)
		}

		// The signed order is write-once in object storage.
		rec, err := pso.Get(context.Background(), e.Store, p["id"].(string))
		if err != nil {
			t.Fatal(err)
		}
		body, obj, err := e.App.Ports.Blobs.Get(context.Background(), rec.ObjectKey)
		if err != nil || string(body) != jws || obj.RetainUntil.Before(time.Now().AddDate(9, 11, 0)) {
			t.Fatalf("stored object: %v retain %v", err, obj.RetainUntil)
		}
		if err := e.App.Ports.Blobs.Delete(context.Background(), rec.ObjectKey); !errors.Is(err, blob.ErrRetained) {
			t.Fatalf("delete of a retained PSO: %v", err)
		}
		// Every PHI read and write left an audit record.
		recs, err := audit.ForExam(context.Background(), e.Store, id)
		if err != nil {
			t.Fatal(err)
		}
		actions := map[string]bool{}
		for _, r := range recs {
			actions[r.Role+":"+r.Action] = true
		}
		for _, want := range []string{"patient:exam.create", "patient:exam.read", "patient:exam.intake", "patient:exam.submit",
			"provider:exam.claim", "provider:exam.read", "provider:exam.decide", "provider:pso.issue", "clinic:exam.read", "clinic:pso.read"} {
			if !actions[want] {
				t.Errorf("no audit record %s (have %v)", want, actions)
			}
		}
		// The servers logged the requests, and nothing that identifies the patient.
		written := logs.String()
		if !strings.Contains(written, `"route":"POST /v1/provider/exams/{id}/decision"`) {
			t.Fatalf("no access log lines were captured")
		}
		for _, phi := range []string{"García", "Garc\\u00eda", "maria@example.com", "1990-04-12", "512 555", "alert(1)"} {
			if strings.Contains(written, phi) {
				t.Fatalf("the logs contain PHI %q", phi)
			}
		}
		// A second decision is a conflict.
		if r := e.do("POST", "/v1/provider/exams/"+id+"/decision", md, approval); r.Status != 409 {
			t.Fatalf("second decision: %d %s", r.Status, r.Body)
		}
	})
}

func flip(s string) string {
	if s == "A" {
		return "B"
	}
	return "A"
}

func TestDeferralAndCancel(t *testing.T) {
	forEachHome(t, func(t *testing.T, open func(testing.TB, bool) *env) {
		e := open(t, false)
		id, tok := e.queued()
		md := bearer(e.providerToken("prov_tx_md"))
		e.must(200, e.do("POST", "/v1/provider/exams/"+id+"/claim", md, nil))
		r := e.must(422, e.do("POST", "/v1/provider/exams/"+id+"/decision", md, map[string]any{"outcome": "deferred"}))
		if r.errorField(t) != "reason" {
			t.Fatalf("deferral without reason: %s", r.Body)
		}
		r = e.must(422, e.do("POST", "/v1/provider/exams/"+id+"/decision", md, map[string]any{"outcome": "approved", "attestation": map[string]bool{"accepted": true}}))
		if r.errorField(t) != "orders" {
			t.Fatalf("approval without orders: %s", r.Body)
		}
		noAttest := map[string]any{"outcome": "approved", "orders": approval["orders"]}
		if r := e.must(422, e.do("POST", "/v1/provider/exams/"+id+"/decision", md, noAttest)); r.errorField(t) != "attestation.accepted" {
			t.Fatalf("approval without attestation: %s", r.Body)
		}
		dec := e.must(200, e.do("POST", "/v1/provider/exams/"+id+"/decision", md, map[string]any{"outcome": "deferred", "reason": "Pregnancy: defer until after delivery and breast-feeding."})).json(t)
		if dec["pso"] != nil || dec["exam"].(map[string]any)["outcome"] != "deferred" {
			t.Fatalf("deferral = %v", dec)
		}
		pv := e.must(200, e.do("GET", "/v1/exams/"+id, bearer(tok), nil)).json(t)["exam"].(map[string]any)
		if pv["outcome"] != "deferred" || !strings.Contains(pv["reason"].(string), "Pregnancy") {
			t.Fatalf("patient sees = %v", pv)
		}
		if r := e.do("POST", "/v1/exams/"+id+"/cancel", bearer(tok), nil); r.Status != 409 {
			t.Fatalf("cancel after decision: %d", r.Status)
		}
		// A fresh draft can be cancelled, and then not submitted.
		id2, tok2 := e.draft()
		c := e.must(200, e.do("POST", "/v1/exams/"+id2+"/cancel", bearer(tok2), nil)).json(t)["exam"].(map[string]any)
		if c["status"] != "cancelled" {
			t.Fatalf("cancel = %v", c)
		}
		e.must(409, e.do("POST", "/v1/exams/"+id2+"/submit", bearer(tok2), nil))
	})
}

func TestRelease(t *testing.T) {
	forEachHome(t, func(t *testing.T, open func(testing.TB, bool) *env) {
		e := open(t, false)
		id, _ := e.queued()
		md, np := bearer(e.providerToken("prov_tx_md")), bearer(e.providerToken("prov_tx_np"))
		e.must(200, e.do("POST", "/v1/provider/exams/"+id+"/claim", md, nil))
		if q := e.must(200, e.do("GET", "/v1/provider/queue", np, nil)).json(t)["items"].([]any); len(q) != 0 {
			t.Fatalf("a claimed exam stays in the queue: %v", q)
		}
		e.must(409, e.do("POST", "/v1/provider/exams/"+id+"/release", np, nil))
		e.must(404, e.do("GET", "/v1/provider/exams/"+id, np, nil))
		e.must(200, e.do("POST", "/v1/provider/exams/"+id+"/release", md, nil))
		eventually(t, "the released exam back in the queue", func() bool {
			q := e.must(200, e.do("GET", "/v1/provider/queue", np, nil)).json(t)["items"].([]any)
			return len(q) == 1
		})
		e.must(200, e.do("POST", "/v1/provider/exams/"+id+"/claim", np, nil))
	})
}

func TestSubmitNeedsPhotosConsentsAndAnswers(t *testing.T) {
	forEachHome(t, func(t *testing.T, open func(testing.TB, bool) *env) {
		e := open(t, false)
		id, tok := e.draft()
		answers := neurotoxinAnswers("")
		delete(answers, "photos")
		e.must(200, e.do("PUT", "/v1/exams/"+id+"/intake", bearer(tok), map[string]any{"answers": answers}))
		for _, c := range []struct {
			intake map[string]any
			field  string
		}{
			{map[string]any{"consents": map[string]bool{"telehealth": false, "privacy": true}}, "consents.telehealth"},
			{map[string]any{"consents": map[string]bool{"telehealth": true, "privacy": false}}, "consents.privacy"},
			{map[string]any{"consents": map[string]bool{"telehealth": true, "privacy": true}}, "attachments"}, // TX async needs photos
		} {
			e.must(200, e.do("PUT", "/v1/exams/"+id+"/intake", bearer(tok), c.intake))
			before := e.snapshot()
			r := e.must(422, e.do("POST", "/v1/exams/"+id+"/submit", bearer(tok), nil))
			if r.errorField(t) != c.field {
				t.Fatalf("want field %s: %s", c.field, r.Body)
			}
			e.assertUnchanged(before, "a refused submit")
		}
		// A reserved photo that never arrived does not count.
		r := e.must(201, e.do("POST", "/v1/exams/"+id+"/attachments", bearer(tok), map[string]any{"kind": "photo", "content_type": "image/png", "size": 1000})).json(t)
		e.must(200, e.do("PUT", "/v1/exams/"+id+"/intake", bearer(tok), map[string]any{"attachments": []string{r["attachment_id"].(string)}}))
		if r := e.must(422, e.do("POST", "/v1/exams/"+id+"/submit", bearer(tok), nil)); r.errorCode(t) != "photo_not_uploaded" {
			t.Fatalf("missing upload: %s", r.Body)
		}
		// A required answer missing is named.
		delete(answers, "medications")
		id2, tok2 := e.draft()
		photo := e.uploadPhoto(id2, tok2)
		answers["photos"] = []string{photo}
		e.must(200, e.do("PUT", "/v1/exams/"+id2+"/intake", bearer(tok2), map[string]any{"answers": answers, "consents": map[string]bool{"telehealth": true, "privacy": true}}))
		if r := e.must(422, e.do("POST", "/v1/exams/"+id2+"/submit", bearer(tok2), nil)); r.errorField(t) != "answers.medications" {
			t.Fatalf("missing answer: %s", r.Body)
		}
	})
}

func TestModalityRules(t *testing.T) {
	forEachHome(t, func(t *testing.T, open func(testing.TB, bool) *env) {
		e := open(t, false)
		// Ohio must be served for its rules to answer (routing_test.go).
		e.putProviders(ohioMD)
		// Ohio's law is not encoded: the strict default allows video only.
		r := e.must(422, e.do("POST", "/v1/exams", widget(pkA), patientBody("OH", "neurotoxin")))
		body := r.json(t)
		if r.errorCode(t) != "modality_not_allowed" || fmt.Sprint(body["modalities_allowed"]) != "[video]" {
			t.Fatalf("OH async: %s", r.Body)
		}
		// Testosterone always needs video.
		if r := e.must(422, e.do("POST", "/v1/exams", widget(pkA), patientBody("TX", "testosterone"))); r.errorCode(t) != "modality_not_allowed" {
			t.Fatalf("testosterone async: %s", r.Body)
		}
		video := patientBody("OH", "neurotoxin")
		video["modality"] = "video"
		e.must(201, e.do("POST", "/v1/exams", widget(pkA), video))
	})
}
