package httpapi

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/goodfaith/goodfaith/internal/auth"
)

// The dev issuer's OpenID Connect endpoints (-dev only, registered by
// devRoutes): discovery, an authorization page where one picks the demo
// provider or clinic admin to sign in as, and the PKCE code exchange. The
// provider console and clinic dashboard sign in through them locally as
// they do through the Cognito hosted UI in AWS.

func (a *api) devOIDCRoutes(mux *http.ServeMux) {
	if a.DevOIDC == nil {
		return
	}
	mux.HandleFunc("GET /dev/.well-known/openid-configuration", a.devDiscovery)
	mux.HandleFunc("GET /dev/authorize", a.devAuthorize)
	mux.HandleFunc("POST /dev/authorize", a.devAuthorize)
	mux.HandleFunc("POST /dev/oauth/token", a.devTokenExchange)
}

func (a *api) devDiscovery(w http.ResponseWriter, r *http.Request) {
	iss := a.DevIssuer.Issuer()
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                iss,
		"authorization_endpoint":                iss + "/authorize",
		"token_endpoint":                        iss + "/oauth/token",
		"jwks_uri":                              iss + "/jwks.json",
		"response_types_supported":              []string{"code"},
		"grant_types_supported":                 []string{"authorization_code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"ES256"},
		"code_challenge_methods_supported":      []string{"S256"},
		"scopes_supported":                      []string{"openid", "profile"},
		"token_endpoint_auth_methods_supported": []string{"none"},
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func oauthFail(w http.ResponseWriter, err error) {
	var oe *auth.OAuthError
	if errors.As(err, &oe) {
		status := http.StatusBadRequest
		if oe.Code == "invalid_client" {
			status = http.StatusUnauthorized
		}
		writeJSON(w, status, map[string]string{"error": oe.Code, "error_description": oe.Description})
		return
	}
	writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "server_error"})
}

// devAuthorizeCSS is the page's only style, allowed by its hash.
const devAuthorizeCSS = `body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
button{font:inherit;display:block;width:100%;text-align:left;margin:.5rem 0;padding:.75rem 1rem;border:1px solid #0b5cad;border-radius:6px;background:#fff;color:#0b5cad;cursor:pointer}
button:focus-visible,button:hover{background:#0b5cad;color:#fff;outline:3px solid #ffb000}
.note{color:#4a4a4a}.err{color:#a40000}`

var devAuthorizeCSSHash = func() string {
	sum := sha256.Sum256([]byte(devAuthorizeCSS))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}()

// renderDevAuthorize writes the sign-in page. It escapes with
// html.EscapeString rather than html/template on purpose: text/template
// calls methods by name through reflection, which makes the linker keep
// every exported method of every type in the binary, and httpapi is linked
// into the Lambda functions, where it more than doubled their size.
func renderDevAuthorize(w io.Writer, app, legend, errMsg string, params map[string]string, subjects []devSubjectView) {
	esc := html.EscapeString
	var b strings.Builder
	b.WriteString(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in — Goodfaith dev issuer</title>
<style>` + devAuthorizeCSS + `</style></head>
<body><main>
<h1>Sign in to the ` + esc(app) + `</h1>
<p class="note">Local development identity provider (<code>-dev</code>). In AWS this page is the Cognito hosted UI, with MFA.</p>
`)
	if errMsg != "" {
		b.WriteString(`<p class="err" role="alert">` + esc(errMsg) + "</p>\n")
	}
	b.WriteString(`<form method="post" action="/dev/authorize">` + "\n")
	for _, k := range slices.Sorted(maps.Keys(params)) {
		b.WriteString(`<input type="hidden" name="` + esc(k) + `" value="` + esc(params[k]) + `">`)
	}
	b.WriteString("\n<fieldset><legend>" + esc(legend) + "</legend>\n")
	for _, s := range subjects {
		b.WriteString(`<button type="submit" name="subject" value="` + esc(s.ID) + `">` + esc(s.Label) + `</button>`)
	}
	b.WriteString("\n</fieldset>\n</form>\n</main></body></html>")
	_, _ = io.WriteString(w, b.String())
}

type devSubjectView struct{ ID, Label string }

func (a *api) devAuthorize(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src "+devAuthorizeCSSHash+"; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	f := r.Form
	req := auth.AuthorizeRequest{
		ResponseType: f.Get("response_type"), ClientID: f.Get("client_id"), RedirectURI: f.Get("redirect_uri"),
		Scope: f.Get("scope"), State: f.Get("state"), Nonce: f.Get("nonce"),
		CodeChallenge: f.Get("code_challenge"), CodeChallengeMethod: f.Get("code_challenge_method"),
	}
	// A bad client or redirect is shown here, never redirected to.
	if err := a.DevOIDC.CheckRedirect(req.ClientID, req.RedirectURI); err != nil {
		oauthFail(w, err)
		return
	}
	back := func(q url.Values) {
		u, _ := url.Parse(req.RedirectURI)
		qs := u.Query()
		for k, v := range q {
			qs[k] = v
		}
		u.RawQuery = qs.Encode()
		http.Redirect(w, r, u.String(), http.StatusSeeOther)
	}
	if err := a.DevOIDC.CheckAuthorize(req); err != nil {
		var oe *auth.OAuthError
		if errors.As(err, &oe) {
			back(url.Values{"error": {oe.Code}, "error_description": {oe.Description}, "state": {req.State}})
			return
		}
		oauthFail(w, err)
		return
	}
	kind, _ := a.DevOIDC.SubjectKind(req.ClientID)
	ctx := r.Context()
	var subjects []devSubjectView
	if kind == auth.SubjectProvider {
		ps, err := a.Directory.Providers(ctx)
		if err != nil {
			oauthFail(w, err)
			return
		}
		for _, p := range ps {
			subjects = append(subjects, devSubjectView{p.ID, p.Name + ", " + p.Credential + " (" + p.ID + ")"})
		}
	} else {
		cs, err := a.Directory.Clinics(ctx)
		if err != nil {
			oauthFail(w, err)
			return
		}
		seen := map[string]bool{}
		for _, c := range cs {
			if kind != auth.SubjectDirector {
				subjects = append(subjects, devSubjectView{c.ID, "Administrator of " + c.Name + " (" + c.ID + ")"})
				continue
			}
			ds, err := a.Directory.ClinicDirectors(ctx, c.ID)
			if err != nil {
				oauthFail(w, err)
				return
			}
			for _, d := range ds {
				if !seen[d.ID] {
					seen[d.ID] = true
					subjects = append(subjects, devSubjectView{d.ID, d.Name + ", " + d.Credential + ", medical director (" + d.ID + ")"})
				}
			}
		}
	}
	if r.Method == http.MethodPost {
		subject := f.Get("subject")
		known := false
		for _, s := range subjects {
			known = known || s.ID == subject
		}
		if known {
			code, err := a.DevOIDC.IssueCode(req, subject)
			if err != nil {
				oauthFail(w, err)
				return
			}
			back(url.Values{"code": {code}, "state": {req.State}})
			return
		}
	}
	params := map[string]string{}
	for _, k := range []string{"response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge", "code_challenge_method"} {
		params[k] = f.Get(k)
	}
	app, legend := "provider console", "Sign in as a demo provider"
	switch kind {
	case auth.SubjectClinicAdmin:
		app, legend = "clinic dashboard", "Sign in as a demo clinic's administrator"
	case auth.SubjectDirector:
		app, legend = "clinic dashboard", "Sign in as a demo medical director"
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	var errMsg string
	if r.Method == http.MethodPost {
		errMsg = "Choose one of the accounts below."
	}
	renderDevAuthorize(w, app, legend, errMsg, params, subjects)
}

func (a *api) devTokenExchange(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		oauthFail(w, &auth.OAuthError{Code: "invalid_request", Description: "send application/x-www-form-urlencoded"})
		return
	}
	if err := r.ParseForm(); err != nil {
		oauthFail(w, &auth.OAuthError{Code: "invalid_request", Description: "malformed form"})
		return
	}
	f := r.PostForm
	tok, err := a.DevOIDC.Exchange(f.Get("grant_type"), f.Get("code"), f.Get("client_id"), f.Get("redirect_uri"), f.Get("code_verifier"))
	if err != nil {
		oauthFail(w, err)
		return
	}
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, tok)
}
