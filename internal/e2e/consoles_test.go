package e2e

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/goodfaith/goodfaith/internal/audit"
	"github.com/goodfaith/goodfaith/internal/auth"
	"github.com/goodfaith/goodfaith/internal/httpapi"
)

// consoleEnv is e served again with the dev issuer's OpenID Connect
// sign-in and clinic-admin tokens enabled (as the local server does with
// -dev), on a second loopback server that never follows redirects.
func consoleEnv(t *testing.T, e *env) (*env, *auth.DevOIDC) {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	oidc := &auth.DevOIDC{Issuer: e.Issuer, RedirectOrigins: []string{base}}
	admins, err := oidc.ClinicAdminVerifier()
	if err != nil {
		t.Fatal(err)
	}
	e.App.Deps.DevOIDC, e.App.Deps.ClinicAdmins = oidc, admins
	srv.Config.Handler = e.App.Handler(httpapi.AllAudiences...)
	srv.Start()
	t.Cleanup(srv.Close)
	c := *e
	c.URL = base
	c.client = srv.Client()
	c.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c, oidc
}

type pkce struct{ verifier, challenge string }

func newPKCE(seed string) pkce {
	v := strings.Repeat(seed, 64)[:64]
	sum := sha256.Sum256([]byte(v))
	return pkce{v, base64.RawURLEncoding.EncodeToString(sum[:])}
}

// signIn runs the authorization-code flow as a browser would: the page, the
// choice, the redirect back with the code.
func signIn(t *testing.T, c *env, client, subject string, p pkce) (code string) {
	t.Helper()
	redirect := c.URL + "/console/"
	q := url.Values{"response_type": {"code"}, "client_id": {client}, "redirect_uri": {redirect}, "scope": {"openid profile"},
		"state": {"st-1"}, "nonce": {"n-1"}, "code_challenge": {p.challenge}, "code_challenge_method": {"S256"}}
	page := c.must(200, c.do("GET", "/dev/authorize?"+q.Encode(), nil, nil))
	if !strings.Contains(string(page.Body), `value="`+subject+`"`) {
		t.Fatalf("the sign-in page does not offer %s: %s", subject, page.Body)
	}
	q.Set("subject", subject)
	r := c.do("POST", "/dev/authorize", hdr{"Content-Type": "application/x-www-form-urlencoded"}, q.Encode())
	if r.Status != http.StatusSeeOther {
		t.Fatalf("choose %s: %d %s", subject, r.Status, r.Body)
	}
	loc, err := url.Parse(r.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(loc.String(), redirect) || loc.Query().Get("state") != "st-1" || loc.Query().Get("code") == "" {
		t.Fatalf("redirect %q", r.Header.Get("Location"))
	}
	return loc.Query().Get("code")
}

func exchange(c *env, client, code, verifier string) res {
	f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_id": {client}, "redirect_uri": {c.URL + "/console/"}, "code_verifier": {verifier}}
	return c.do("POST", "/dev/oauth/token", hdr{"Content-Type": "application/x-www-form-urlencoded"}, f.Encode())
}

func TestConsoleSignInWithPKCE(t *testing.T) {
	e := openEmbedded(t, false)
	c, oidc := consoleEnv(t, e)
	console, dashboard := oidc.ConsoleClient(), oidc.DashboardClient()

	d := c.must(200, c.do("GET", "/dev/.well-known/openid-configuration", nil, nil)).json(t)
	if d["issuer"] != e.Issuer.Issuer() || d["authorization_endpoint"] != e.Issuer.Issuer()+"/authorize" || d["token_endpoint"] != e.Issuer.Issuer()+"/oauth/token" {
		t.Fatalf("discovery %v", d)
	}

	// A redirect elsewhere is refused on the page, never followed.
	p := newPKCE("a")
	bad := url.Values{"response_type": {"code"}, "client_id": {console}, "redirect_uri": {"https://evil.example/cb"}, "scope": {"openid"}, "state": {"s"}, "code_challenge": {p.challenge}, "code_challenge_method": {"S256"}}
	if r := c.do("GET", "/dev/authorize?"+bad.Encode(), nil, nil); r.Status != 400 || r.Header.Get("Location") != "" {
		t.Fatalf("foreign redirect_uri: %d %q", r.Status, r.Header.Get("Location"))
	}
	// Without PKCE the request goes back with an error, no code.
	plain := url.Values{"response_type": {"code"}, "client_id": {console}, "redirect_uri": {c.URL + "/console/"}, "scope": {"openid"}, "state": {"s"}}
	if r := c.do("GET", "/dev/authorize?"+plain.Encode(), nil, nil); r.Status != 303 || !strings.Contains(r.Header.Get("Location"), "error=invalid_request") || strings.Contains(r.Header.Get("Location"), "code=") {
		t.Fatalf("no PKCE: %d %q", r.Status, r.Header.Get("Location"))
	}

	// A wrong verifier burns the code; the right one afterwards is too late.
	code := signIn(t, c, console, "prov_tx_md", p)
	if r := exchange(c, console, code, newPKCE("b").verifier); r.Status != 400 || r.json(t)["error"] != "invalid_grant" {
		t.Fatalf("wrong verifier: %d %s", r.Status, r.Body)
	}
	if r := exchange(c, console, code, p.verifier); r.Status != 400 {
		t.Fatalf("reused code: %d %s", r.Status, r.Body)
	}
	// The right verifier, once.
	code = signIn(t, c, console, "prov_tx_md", p)
	if r := exchange(c, dashboard, code, p.verifier); r.Status != 400 {
		t.Fatalf("code redeemed by another client: %d", r.Status)
	}
	code = signIn(t, c, console, "prov_tx_md", p)
	tok := c.must(200, exchange(c, console, code, p.verifier)).json(t)
	idt := tok["id_token"].(string)
	if claims := decodeClaims(t, idt); claims["nonce"] != "n-1" || claims["goodfaith:provider_id"] != "prov_tx_md" {
		t.Fatalf("claims %v", claims)
	}
	if r := exchange(c, console, code, p.verifier); r.Status != 400 {
		t.Fatalf("second exchange: %d", r.Status)
	}
	c.must(200, c.do("GET", "/v1/provider/queue", bearer(idt), nil))

	// The dashboard client signs in clinic administrators.
	code = signIn(t, c, dashboard, "clinic_a", p)
	admin := c.must(200, exchange(c, dashboard, code, p.verifier)).json(t)["id_token"].(string)
	list := c.must(200, c.do("GET", "/v1/clinic/exams", bearer(admin), nil)).json(t)
	if list["items"] == nil {
		t.Fatalf("clinic list %v", list)
	}
	// Neither kind of token passes for the other.
	if r := c.do("GET", "/v1/clinic/exams", bearer(idt), nil); r.Status != 401 {
		t.Fatalf("provider token on clinic routes: %d", r.Status)
	}
	if r := c.do("GET", "/v1/provider/queue", bearer(admin), nil); r.Status != 401 {
		t.Fatalf("clinic-admin token on provider routes: %d", r.Status)
	}
	// The secret key keeps working; a bad key or token does not.
	c.must(200, c.do("GET", "/v1/clinic/exams", bearer(skA), nil))
	for _, cred := range []string{"sk_test_nope_nope_nope_nope_nope_nope", admin[:len(admin)-4] + "AAAA", "garbage"} {
		if r := c.do("GET", "/v1/clinic/exams", bearer(cred), nil); r.Status != 401 {
			t.Errorf("credential %.12s…: %d, want 401", cred, r.Status)
		}
	}
	// A clinic admin of a clinic that does not exist is nobody.
	ghost, err := oidc.MintClinicAdmin("clinic_ghost", 0)
	if err != nil {
		t.Fatal(err)
	}
	if r := c.do("GET", "/v1/clinic/exams", bearer(ghost), nil); r.Status != 401 {
		t.Fatalf("ghost clinic admin: %d", r.Status)
	}
}

func decodeClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	return res{Body: raw}.json(t)
}

// TestClinicAdminTenancy: a clinic admin sees its own clinic only, like its
// secret key; another clinic's exam is 404.
func TestClinicAdminTenancy(t *testing.T) {
	e := openEmbedded(t, false)
	c, oidc := consoleEnv(t, e)
	id, _ := c.queued()
	adminA, _ := oidc.MintClinicAdmin("clinic_a", 0)
	adminB, _ := oidc.MintClinicAdmin("clinic_b", 0)
	c.must(200, c.do("GET", "/v1/clinic/exams/"+id, bearer(adminA), nil))
	if r := c.do("GET", "/v1/clinic/exams/"+id, bearer(adminB), nil); r.Status != 404 {
		t.Fatalf("clinic B admin reads clinic A's exam: %d", r.Status)
	}
	items := c.must(200, c.do("GET", "/v1/clinic/exams", bearer(adminB), nil)).json(t)["items"].([]any)
	for _, it := range items {
		if it.(map[string]any)["id"] == id {
			t.Fatal("clinic A's exam listed for clinic B")
		}
	}
}

func TestClinicSettings(t *testing.T) {
	e := openEmbedded(t, false)
	s := e.must(200, e.do("GET", "/v1/clinic/settings", bearer(skA), nil)).json(t)
	if !strings.Contains(s["embed"].(string), `data-key="pk_test_a"`) || !strings.Contains(s["embed"].(string), e.URL+"/widget/goodfaith.js") {
		t.Fatalf("embed %v", s["embed"])
	}
	good := map[string]any{"treatments": []string{"neurotoxin"}, "timezone": "America/Chicago",
		"hours": map[string][]string{"mon": {"09:00", "17:00"}}, "branding": map[string]string{"primary_color": "#ffe45c"}}
	before := e.snapshot()
	for _, bad := range []struct {
		name, field string
		change      func(m map[string]any)
	}{
		{"bad colour", "branding.primary_color", func(m map[string]any) { m["branding"] = map[string]string{"primary_color": "red; x"} }},
		{"unknown branding", "branding.logo_html", func(m map[string]any) { m["branding"] = map[string]string{"logo_html": "<b>"} }},
		{"unknown treatment", "treatments[1]", func(m map[string]any) { m["treatments"] = []string{"neurotoxin", "tattoo"} }},
		{"no treatments", "treatments", func(m map[string]any) { m["treatments"] = []string{} }},
		{"closing before opening", "hours.mon", func(m map[string]any) { m["hours"] = map[string][]string{"mon": {"17:00", "09:00"}} }},
		{"bad day", "hours.someday", func(m map[string]any) { m["hours"] = map[string][]string{"someday": {"09:00", "17:00"}} }},
		{"bad time", "hours.tue", func(m map[string]any) { m["hours"] = map[string][]string{"tue": {"9am", "17:00"}} }},
		{"bad zone", "timezone", func(m map[string]any) { m["timezone"] = "Mars/Olympus" }},
	} {
		body := map[string]any{}
		for k, v := range good {
			body[k] = v
		}
		bad.change(body)
		r := e.do("PUT", "/v1/clinic/settings", bearer(skA), body)
		if r.Status != 422 || r.errorField(t) != bad.field {
			t.Errorf("%s: %d field %q, want 422 %q (%s)", bad.name, r.Status, r.errorField(t), bad.field, r.Body)
		}
	}
	e.assertUnchanged(before, "refused settings")

	e.must(200, e.do("PUT", "/v1/clinic/settings", bearer(skA), good))
	cfg := e.must(200, e.do("GET", "/v1/widget/config", widget(pkA), nil)).json(t)
	if b := cfg["clinic"].(map[string]any)["branding"].(map[string]any); b["primary_color"] != "#ffe45c" {
		t.Fatalf("widget branding %v", b)
	}
	if ts := cfg["treatments"].([]any); len(ts) != 1 {
		t.Fatalf("widget treatments %v", ts)
	}
	// The secret key still works after the clinic record was rewritten,
	// and clinic B's settings did not move.
	e.must(200, e.do("GET", "/v1/clinic/exams", bearer(skA), nil))
	if b := e.must(200, e.do("GET", "/v1/clinic/settings", bearer(skB), nil)).json(t)["branding"].(map[string]any); b["primary_color"] != nil {
		t.Fatalf("clinic B branding changed: %v", b)
	}
}

// TestProviderHistoryAndPDF: the history and the PDF answer only the
// provider holding (or having decided) the exam; prior orders of the same
// patient at the clinic are listed, audited, and prefill the next order.
func TestProviderHistoryAndPDF(t *testing.T) {
	e := openEmbedded(t, false)
	md := bearer(e.providerToken("prov_tx_md"))
	np := bearer(e.providerToken("prov_tx_np"))
	first, _ := e.queued()
	if r := e.do("GET", "/v1/provider/exams/"+first+"/history", md, nil); r.Status != 404 {
		t.Fatalf("history of an unclaimed exam: %d", r.Status)
	}
	e.must(200, e.do("POST", "/v1/provider/exams/"+first+"/claim", md, nil))
	if r := e.do("GET", "/v1/provider/exams/"+first+"/history", np, nil); r.Status != 404 {
		t.Fatalf("history by a provider not holding it: %d", r.Status)
	}
	if r := e.do("GET", "/v1/provider/exams/"+first, np, nil); r.Status != 404 {
		t.Fatalf("exam read by a provider not holding it: %d", r.Status)
	}
	h := e.must(200, e.do("GET", "/v1/provider/exams/"+first+"/history", md, nil)).json(t)
	if len(h["prior"].([]any)) != 0 || len(h["last_orders"].(map[string]any)) != 0 {
		t.Fatalf("history of a first exam: %v", h)
	}
	signed := e.must(201, e.do("POST", "/v1/provider/exams/"+first+"/decision", md, approval)).json(t)
	psoID := signed["pso"].(map[string]any)["id"].(string)

	pdf := e.must(200, e.do("GET", "/v1/provider/psos/"+psoID+"/pdf", md, nil))
	if pdf.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(string(pdf.Body), "%PDF") {
		t.Fatalf("pdf: %q %.8q", pdf.Header.Get("Content-Type"), pdf.Body)
	}
	for _, r := range []res{e.do("GET", "/v1/provider/psos/"+psoID+"/pdf", np, nil), e.do("GET", "/v1/provider/psos/pso_nope/pdf", md, nil)} {
		if r.Status != 404 {
			t.Fatalf("PDF for someone else or unknown: %d", r.Status)
		}
	}

	second, _ := e.queued() // the same patient again
	e.must(200, e.do("POST", "/v1/provider/exams/"+second+"/claim", md, nil))
	h = e.must(200, e.do("GET", "/v1/provider/exams/"+second+"/history", md, nil)).json(t)
	prior := h["prior"].([]any)
	if len(prior) != 1 || prior[0].(map[string]any)["exam_id"] != first || prior[0].(map[string]any)["pso"].(map[string]any)["id"] != psoID {
		t.Fatalf("prior %v", prior)
	}
	last := h["last_orders"].(map[string]any)["neurotoxin"].(map[string]any)
	if last["product"] != "onabotulinumtoxinA (Botox Cosmetic)" || last["exam_id"] != first {
		t.Fatalf("last order %v", last)
	}
	recs, err := audit.ForExam(t.Context(), e.Store, first)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range recs {
		found = found || (r.Action == "exam.history.read" && r.Actor == "prov_tx_md")
	}
	if !found {
		t.Fatalf("reading the prior exam was not audited: %v", recs)
	}
}
