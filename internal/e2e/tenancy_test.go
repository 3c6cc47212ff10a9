package e2e

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestTenancy(t *testing.T) {
	forEachHome(t, func(t *testing.T, open func(testing.TB, bool) *env) {
		e := open(t, false)
		id, tok := e.queued()
		other, otherTok := e.draft()
		_ = other
		// Another clinic, another patient, an ineligible provider: 404.
		e.must(404, e.do("GET", "/v1/clinic/exams/"+id, bearer(skB), nil))
		e.must(404, e.do("GET", "/v1/exams/"+id, bearer(otherTok), nil))
		e.must(404, e.do("PUT", "/v1/exams/"+id+"/intake", bearer(otherTok), map[string]any{}))
		for _, p := range []string{"prov_ca_md", "prov_tx_expired", "prov_tx_rn"} {
			h := bearer(e.providerToken(p))
			e.must(404, e.do("POST", "/v1/provider/exams/"+id+"/claim", h, nil))
			e.must(404, e.do("GET", "/v1/provider/exams/"+id, h, nil))
			if q := e.must(200, e.do("GET", "/v1/provider/queue", h, nil)).json(t)["items"].([]any); len(q) != 0 {
				t.Fatalf("%s sees %v", p, q)
			}
		}
		// An eligible provider who does not hold the exam cannot read it.
		e.must(404, e.do("GET", "/v1/provider/exams/"+id, bearer(e.providerToken("prov_tx_np")), nil))
		// The clinic's own key sees it.
		e.must(200, e.do("GET", "/v1/clinic/exams/"+id, bearer(skA), nil))
		e.must(200, e.do("GET", "/v1/exams/"+id, bearer(tok), nil))
		// A widget on a website not on the allowlist is refused.
		r := e.must(403, e.do("POST", "/v1/exams", hdr{"X-Goodfaith-Key": pkA, "Origin": "https://evil.example"}, patientBody("TX", "neurotoxin")))
		if r.errorCode(t) != "origin_not_allowed" {
			t.Fatalf("origin: %s", r.Body)
		}
		e.must(201, e.do("POST", "/v1/exams", hdr{"X-Goodfaith-Key": pkA, "Origin": "https://clinic-a.example"}, patientBody("TX", "neurotoxin")))
	})
}

// TestTokenAttacks checks that forged and misused credentials get 401 over
// HTTP; expiry and not-before are tested with a fake clock in package auth.
func TestTokenAttacks(t *testing.T) {
	e := openEmbedded(t, false)
	id, tok := e.queued()
	provider := e.providerToken("prov_tx_md")
	parts := strings.Split(provider, ".")
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."
	flipped := parts[0] + "." + parts[1] + "." + flipLast(parts[2])
	forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"prov_tx_md","iss":"x","aud":"y","exp":9999999999}`)) + "." + parts[2]
	cases := map[string]struct {
		path  string
		token string
	}{
		"alg none provider":         {"/v1/provider/queue", none},
		"bad signature":             {"/v1/provider/queue", flipped},
		"forged claims":             {"/v1/provider/queue", forged},
		"patient token as provider": {"/v1/provider/queue", tok},
		"provider token as patient": {"/v1/exams/" + id, provider},
		"garbage":                   {"/v1/provider/queue", "not-a-token"},
		"unknown clinic key":        {"/v1/clinic/exams", "sk_test_unknown"},
		"publishable key as secret": {"/v1/clinic/exams", pkA},
		"patient token flipped":     {"/v1/exams/" + id, tok[:len(tok)-2] + flipLast(tok[len(tok)-2:])},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			r := e.do("GET", c.path, bearer(c.token), nil)
			if r.Status != 401 || r.errorCode(t) != "unauthenticated" {
				t.Fatalf("status %d: %s", r.Status, r.Body)
			}
		})
	}
	e.must(401, e.do("GET", "/v1/provider/queue", nil, nil))
	e.must(401, e.do("POST", "/v1/exams", nil, patientBody("TX", "neurotoxin")))
	e.must(401, e.do("POST", "/v1/exams", widget("pk_test_nobody"), patientBody("TX", "neurotoxin")))
}

func flipLast(s string) string {
	last := s[len(s)-1]
	repl := byte('A')
	if last == 'A' {
		repl = 'B'
	}
	return s[:len(s)-1] + string(repl)
}
