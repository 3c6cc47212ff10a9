package e2e

import (
	"strings"
	"testing"
)

// TestBadInputChangesNothing sends malformed and invalid requests; each gets
// its status from API.md and leaves the store exactly as it was.
func TestBadInputChangesNothing(t *testing.T) {
	forEachHome(t, func(t *testing.T, open func(testing.TB, bool) *env) {
		e := open(t, false)
		id, tok := e.draft()
		qid, _ := e.queued()
		md := bearer(e.providerToken("prov_tx_md"))
		e.must(200, e.do("POST", "/v1/provider/exams/"+qid+"/claim", md, nil))
		valid := patientBody("TX", "neurotoxin")
		withPatient := func(field, value string) map[string]any {
			p := map[string]any{}
			for k, v := range valid["patient"].(map[string]any) {
				p[k] = v
			}
			p[field] = value
			return map[string]any{"patient": p, "treatments": []string{"neurotoxin"}, "modality": "async"}
		}
		huge := `{"patient":{"first_name":"` + strings.Repeat("a", 70<<10) + `"}}`
		cases := []struct {
			name        string
			method      string
			path        string
			h           hdr
			body        any
			status      int
			code, field string
		}{
			{"malformed JSON", "POST", "/v1/exams", widget(pkA), `{"patient":`, 400, "malformed_json", ""},
			{"not an object", "POST", "/v1/exams", widget(pkA), `[1,2]`, 400, "invalid_type", ""},
			{"two values", "POST", "/v1/exams", widget(pkA), `{} {}`, 400, "malformed_json", ""},
			{"unknown field", "POST", "/v1/exams", widget(pkA), map[string]any{"patient": valid["patient"], "treatments": []string{"neurotoxin"}, "coupon": "x"}, 400, "unknown_field", "coupon"},
			{"wrong type", "POST", "/v1/exams", widget(pkA), map[string]any{"patient": valid["patient"], "treatments": "neurotoxin"}, 400, "invalid_type", "treatments"},
			{"oversized body", "POST", "/v1/exams", widget(pkA), huge, 413, "body_too_large", ""},
			{"unknown state ZZ", "POST", "/v1/exams", widget(pkA), withPatient("state", "ZZ"), 422, "state_not_served", "patient.state"},
			{"impossible date", "POST", "/v1/exams", widget(pkA), withPatient("dob", "1990-02-30"), 422, "invalid_date", "patient.dob"},
			{"date in another format", "POST", "/v1/exams", widget(pkA), withPatient("dob", "04/12/1990"), 422, "invalid_date", "patient.dob"},
			{"future birth", "POST", "/v1/exams", widget(pkA), withPatient("dob", "2999-01-01"), 422, "invalid_date", "patient.dob"},
			{"minor", "POST", "/v1/exams", widget(pkA), withPatient("dob", "2015-01-01"), 422, "patient_minor", "patient.dob"},
			{"bad email", "POST", "/v1/exams", widget(pkA), withPatient("email", "maria"), 422, "invalid_email", "patient.email"},
			{"treatment not offered", "POST", "/v1/exams", widget(pkA), map[string]any{"patient": valid["patient"], "treatments": []string{"iv_therapy"}}, 422, "treatment_not_offered", "treatments[0]"},
			{"unknown treatment", "POST", "/v1/exams", widget(pkA), map[string]any{"patient": valid["patient"], "treatments": []string{"tattoo"}}, 422, "treatment_unknown", "treatments[0]"},
			{"bad modality", "POST", "/v1/exams", widget(pkA), map[string]any{"patient": valid["patient"], "treatments": []string{"neurotoxin"}, "modality": "fax"}, 422, "invalid_modality", "modality"},
			{"unknown question", "PUT", "/v1/exams/" + id + "/intake", bearer(tok), map[string]any{"answers": map[string]any{"shoe_size": 9}}, 422, "unknown_question", "answers.shoe_size"},
			{"wrong answer type", "PUT", "/v1/exams/" + id + "/intake", bearer(tok), map[string]any{"answers": map[string]any{"pregnant": "maybe"}}, 422, "invalid_answer", "answers.pregnant"},
			{"unknown attachment", "PUT", "/v1/exams/" + id + "/intake", bearer(tok), map[string]any{"attachments": []string{"att_nope"}}, 422, "unknown_attachment", "attachments"},
			{"unknown consent field", "PUT", "/v1/exams/" + id + "/intake", bearer(tok), map[string]any{"consents": map[string]any{"marketing": true}}, 400, "unknown_field", "marketing"},
			{"missing consent on submit", "POST", "/v1/exams/" + id + "/submit", bearer(tok), nil, 422, "answer_required", "answers.pregnant"},
			{"photo too large", "POST", "/v1/exams/" + id + "/attachments", bearer(tok), map[string]any{"kind": "photo", "content_type": "image/jpeg", "size": 50 << 20}, 413, "attachment_too_large", "size"},
			{"photo wrong type", "POST", "/v1/exams/" + id + "/attachments", bearer(tok), map[string]any{"kind": "photo", "content_type": "application/pdf", "size": 100}, 422, "invalid_content_type", "content_type"},
			{"decision bad outcome", "POST", "/v1/provider/exams/" + qid + "/decision", md, map[string]any{"outcome": "maybe"}, 422, "invalid_outcome", "outcome"},
			{"order for another treatment", "POST", "/v1/provider/exams/" + qid + "/decision", md, map[string]any{"outcome": "approved", "attestation": map[string]bool{"accepted": true},
				"orders": []map[string]any{{"treatment": "glp1", "product": "x", "dose": "1", "route": "sc"}}}, 422, "treatment_not_in_exam", "orders[0].treatment"},
			{"order without dose", "POST", "/v1/provider/exams/" + qid + "/decision", md, map[string]any{"outcome": "approved", "attestation": map[string]bool{"accepted": true},
				"orders": []map[string]any{{"treatment": "neurotoxin", "product": "x", "route": "im"}}}, 422, "required", "orders[0].dose"},
			{"order valid too long", "POST", "/v1/provider/exams/" + qid + "/decision", md, map[string]any{"outcome": "approved", "attestation": map[string]bool{"accepted": true},
				"orders": []map[string]any{{"treatment": "neurotoxin", "product": "x", "dose": "1", "route": "im", "valid_days": 9999}}}, 422, "out_of_range", "orders[0].valid_days"},
			{"clinic bad status filter", "GET", "/v1/clinic/exams?status=pending", bearer(skA), nil, 422, "invalid_status", "status"},
			{"clinic bad cursor", "GET", "/v1/clinic/exams?cursor=bm90LWEtY3Vyc29y", bearer(skA), nil, 422, "invalid_cursor", "cursor"},
			{"verify without jws", "POST", "/v1/psos/verify", nil, map[string]any{"jws": ""}, 422, "required", "jws"},
			{"idempotency key too long", "POST", "/v1/exams", hdr{"X-Goodfaith-Key": pkA, "Idempotency-Key": strings.Repeat("k", 256)}, valid, 422, "invalid_idempotency_key", "Idempotency-Key"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				before := e.snapshot()
				r := e.do(c.method, c.path, c.h, c.body)
				if r.Status != c.status || r.errorCode(t) != c.code || r.errorField(t) != c.field {
					t.Fatalf("got %d %s, want %d %s %s", r.Status, r.Body, c.status, c.code, c.field)
				}
				if msg := r.json(t)["error"].(map[string]any)["message"]; msg == "" {
					t.Fatalf("error without a message: %s", r.Body)
				}
				e.assertUnchanged(before, c.name)
			})
		}
	})
}
