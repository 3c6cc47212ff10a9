package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/goodfaith/goodfaith/internal/auth"
	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/directory"
	"github.com/goodfaith/goodfaith/internal/exam"
	"github.com/goodfaith/goodfaith/internal/fault"
	"github.com/goodfaith/goodfaith/internal/ice"
	"github.com/goodfaith/goodfaith/internal/idempotency"
	"github.com/goodfaith/goodfaith/internal/ids"
	"github.com/goodfaith/goodfaith/internal/oversight"
	"github.com/goodfaith/goodfaith/internal/signer"
	"github.com/goodfaith/goodfaith/internal/store"
)

// ProviderVerifier checks provider JWTs (auth.ProviderVerifier in
// production and locally).
type ProviderVerifier interface {
	Verify(ctx context.Context, token string) (auth.Principal, error)
}

// ICEServer is one entry of GET /v1/ice-servers.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// Deps are what the handlers need.
type Deps struct {
	Exams         *exam.Service
	Directory     directory.Directory
	Store         store.Store // idempotency records
	PatientTokens *auth.PatientTokens
	Providers     ProviderVerifier
	Keyring       signer.Keyring
	Clock         clock.Clock
	IDs           ids.Generator
	Log           *slog.Logger
	// PublicOrigin is this service's own origin (where the widget frame is
	// served); a widget call from it is allowed like one from the clinic's
	// allowlist, because the frame's embedding is itself restricted.
	PublicOrigin string
	// VerifyBaseURL prefixes a PSO id into a verification link.
	VerifyBaseURL string
	ICEServers    []ICEServer
	// ICE, if set, issues STUN and TURN servers with short-lived TURN
	// credentials and takes precedence over ICEServers.
	ICE *ice.Config
	// DevIssuer, if set, enables POST /dev/token and GET /dev/jwks.json.
	DevIssuer *auth.DevIssuer
	// DevOIDC, if set with DevIssuer, enables the dev issuer's OpenID
	// Connect sign-in (devoidc.go).
	DevOIDC *auth.DevOIDC
	// ClinicAdmins, if set, verifies clinic-admin JWTs (the dashboard's
	// sign-in), accepted on clinic routes as an alternative to sk_ keys.
	ClinicAdmins ProviderVerifier
	// Integrations serve usage, statements, webhooks and invites.
	Integrations
	// Oversight, if set, serves the medical director's routes and the
	// clinic's oversight routes (director.go); Directors verifies the
	// directors' JWTs.
	Oversight *oversight.Service
	Directors ProviderVerifier
}

// Audience selects a group of routes; a Lambda serves one audience.
type Audience int

// Audiences, as split across the Lambda functions.
const (
	Patient Audience = iota
	Provider
	Clinic
	Public
)

// AllAudiences mounts every route (the local server).
var AllAudiences = []Audience{Patient, Provider, Clinic, Public}

// New returns the API for the given audiences.
func New(d Deps, audiences ...Audience) http.Handler {
	a := newAPI(d)
	mux := http.NewServeMux()
	for _, au := range audiences {
		switch au {
		case Patient:
			a.patientRoutes(mux)
		case Provider:
			a.providerRoutes(mux)
		case Clinic:
			a.clinicRoutes(mux)
		case Public:
			a.publicRoutes(mux)
		}
	}
	if d.DevIssuer != nil {
		a.devRoutes(mux)
	}
	return a.middleware(mux)
}

type api struct {
	Deps
	idem idempotency.Keeper
}

func newAPI(d Deps) *api {
	return &api{Deps: d, idem: idempotency.Keeper{Store: d.Store, Clock: d.Clock}}
}

// Routes mounts the routes of one audience, as New does for an Audience.
// A Lambda function serves one audience through Mount: New decides at run
// time, so a binary built on it links every audience's handlers (the
// provider's PDF rendering in the public function, …), while each Routes
// value is a separate variable that only the functions naming it link.
type Routes struct{ mount func(*api, *http.ServeMux) }

// The audiences' Routes.
var (
	PatientRoutes  = Routes{func(a *api, mux *http.ServeMux) { a.patientRoutes(mux) }}
	ProviderRoutes = Routes{func(a *api, mux *http.ServeMux) { a.providerRoutes(mux) }}
	ClinicRoutes   = Routes{func(a *api, mux *http.ServeMux) { a.clinicRoutes(mux) }}
	PublicRoutes   = Routes{func(a *api, mux *http.ServeMux) { a.publicRoutes(mux) }}
)

// Mount serves the routes given, as New serves its audiences', without the
// dev issuer's routes (no Lambda function has one).
func Mount(d Deps, routes ...Routes) http.Handler {
	a := newAPI(d)
	mux := http.NewServeMux()
	for _, r := range routes {
		r.mount(a, mux)
	}
	return a.middleware(mux)
}

// call is one request as an endpoint sees it.
type call struct {
	r         *http.Request
	body      []byte
	principal auth.Principal
	clinic    directory.Clinic // set for widget and clinic callers
}

// reply is an endpoint's answer.
type reply struct {
	status      int
	body        any
	contentType string // default application/json
	raw         []byte // sent as is when set
}

func ok(body any) reply      { return reply{status: http.StatusOK, body: body} }
func created(body any) reply { return reply{status: http.StatusCreated, body: body} }

type endpoint func(c *call) (reply, error)

// authenticator establishes who calls, or fails.
type authenticator func(c *call) error

// route options.
type opt int

const (
	idempotent opt = iota + 1
)

// handle mounts an endpoint: read the body, authenticate, run (once per
// Idempotency-Key when idempotent), render.
func (a *api) handle(mux *http.ServeMux, pattern string, authn authenticator, ep endpoint, opts ...opt) {
	isIdem := len(opts) > 0 && opts[0] == idempotent
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		c := &call{r: r}
		var err error
		if c.body, err = readBody(r); err != nil {
			a.render(w, r, a.fail(r, err))
			return
		}
		if err := authn(c); err != nil {
			a.render(w, r, a.fail(r, err))
			return
		}
		key := r.Header.Get("Idempotency-Key")
		if !isIdem || key == "" {
			a.render(w, r, a.run(c, ep))
			return
		}
		resp, err := a.idem.Do(r.Context(), scopeOf(c), key, fingerprint(r, c.body), func() (idempotency.Response, error) {
			rep := a.run(c, ep)
			body, err := encode(rep)
			return idempotency.Response{Status: rep.status, ContentType: rep.contentTypeOr(), Body: body}, err
		})
		if err != nil {
			a.render(w, r, a.fail(r, err))
			return
		}
		w.Header().Set("Idempotent-Replayed", "true")
		a.render(w, r, reply{status: resp.Status, contentType: resp.ContentType, raw: resp.Body})
	})
}

func (a *api) run(c *call, ep endpoint) reply {
	rep, err := ep(c)
	if err != nil {
		return a.fail(c.r, err)
	}
	return rep
}

// fail turns an error into a reply, logging server errors (never PHI: the
// route pattern, not the path, and the error, which carries no patient data).
func (a *api) fail(r *http.Request, err error) reply {
	status, body := statusOf(err)
	if status >= 500 {
		a.Log.ErrorContext(r.Context(), "request failed", "route", r.Pattern, "error", err.Error())
	}
	return reply{status: status, body: body}
}

func scopeOf(c *call) string {
	p := c.principal
	s := string(p.Role) + "|" + p.ClinicID + "|" + p.ExamID + "|" + p.ProviderID
	if p.DirectorID != "" {
		s += "|" + p.DirectorID // two directors of one clinic never share replays
	}
	return s
}

func fingerprint(r *http.Request, body []byte) string {
	h := sha256.New()
	h.Write([]byte(r.Method + " " + r.URL.Path + "\n"))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

func (rep reply) contentTypeOr() string {
	if rep.contentType != "" {
		return rep.contentType
	}
	return "application/json"
}

func encode(rep reply) ([]byte, error) {
	if rep.raw != nil {
		return rep.raw, nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(true) // patient text never reaches a page as markup
	if err := enc.Encode(rep.body); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (a *api) render(w http.ResponseWriter, r *http.Request, rep reply) {
	body, err := encode(rep)
	if err != nil {
		a.Log.ErrorContext(r.Context(), "encode response", "route", r.Pattern, "error", err.Error())
		rep = reply{status: http.StatusInternalServerError}
		body, _ = encode(reply{body: errorBody{Error: errorDetail{Code: "internal", Message: "response could not be encoded"}}})
	}
	w.Header().Set("Content-Type", rep.contentTypeOr())
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(rep.status)
	_, _ = w.Write(body)
}

// statusRecorder remembers the status for the access log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// middleware adds security headers, CORS for the browser-facing routes,
// panic recovery and an access log line without PHI.
func (a *api) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		h.Set("Referrer-Policy", "no-referrer")
		if origin := r.Header.Get("Origin"); origin != "" {
			// Any origin may ask; the publishable key's allowlist decides
			// per request, and credentials travel in headers, not cookies.
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Vary", "Origin")
			if r.Method == http.MethodOptions {
				h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, OPTIONS")
				h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Idempotency-Key, X-Goodfaith-Key")
				h.Set("Access-Control-Max-Age", "600")
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				a.Log.ErrorContext(r.Context(), "panic", "route", r.Pattern, "panic", slog.AnyValue(p).String())
				a.render(rec, r, reply{status: http.StatusInternalServerError, body: errorBody{Error: errorDetail{Code: "internal", Message: "something went wrong on our side"}}})
			}
			a.Log.InfoContext(r.Context(), "request", "method", r.Method, "route", r.Pattern, "status", rec.status, "ms", time.Since(start).Milliseconds())
		}()
		next.ServeHTTP(rec, r)
	})
}

// ---- authenticators ----

// widgetKey authenticates a widget call by the clinic's publishable key
// and the browser's Origin.
func (a *api) widgetKey(c *call) error {
	pk := c.r.Header.Get("X-Goodfaith-Key")
	if pk == "" {
		return auth.ErrMissingCredential
	}
	if !auth.ValidPublishableKeyFormat(pk) {
		return auth.ErrInvalidToken
	}
	clinic, err := a.Directory.ClinicByPublishableKey(c.r.Context(), pk)
	if err != nil {
		if errors.Is(err, fault.ErrNotFound) {
			return auth.ErrInvalidToken
		}
		return err
	}
	origin := c.r.Header.Get("Origin")
	if origin != a.PublicOrigin && !clinic.OriginAllowed(origin) {
		return errOriginRefused
	}
	c.clinic = clinic
	c.principal = auth.Principal{Role: auth.RolePatient, ClinicID: clinic.ID}
	return nil
}

// patient authenticates a patient token bound to the {id} of the path.
func (a *api) patient(c *call) error {
	tok, err := auth.ParseBearer(c.r.Header.Get("Authorization"))
	if err != nil {
		return err
	}
	p, err := a.PatientTokens.Verify(tok)
	if err != nil {
		return err
	}
	if id := c.r.PathValue("id"); id != "" && id != p.ExamID {
		return errNotFound // another patient's exam: it does not exist for this caller
	}
	c.principal = p
	return nil
}

// provider authenticates a provider JWT.
func (a *api) provider(c *call) error {
	tok, err := auth.ParseBearer(c.r.Header.Get("Authorization"))
	if err != nil {
		return err
	}
	p, err := a.Providers.Verify(c.r.Context(), tok)
	if err != nil {
		return err
	}
	c.principal = p
	return nil
}

// clinic authenticates a clinic's secret key.
func (a *api) clinicKey(c *call) error {
	tok, err := auth.ParseBearer(c.r.Header.Get("Authorization"))
	if err != nil {
		return err
	}
	if !strings.HasPrefix(tok, "sk_") && a.ClinicAdmins != nil {
		return a.clinicAdmin(c, tok) // clinicadmin.go
	}
	if !auth.ValidSecretKeyFormat(tok) {
		return auth.ErrInvalidToken
	}
	clinic, err := a.Directory.ClinicBySecretKeyHash(c.r.Context(), auth.HashSecretKey(tok))
	if err != nil {
		if errors.Is(err, fault.ErrNotFound) {
			return auth.ErrInvalidToken
		}
		return err
	}
	c.clinic = clinic
	c.principal = auth.Principal{Role: auth.RoleClinic, ClinicID: clinic.ID}
	return nil
}

// patientOrProvider accepts either credential (ICE servers, signaling).
func (a *api) patientOrProvider(c *call) error {
	if err := a.patient(c); err == nil {
		return nil
	}
	return a.provider(c)
}

func anyone(*call) error { return nil }
