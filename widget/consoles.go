package widget

import (
	"embed"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// The provider console and the clinic dashboard (issue 8): static pages
// built from src/console, src/dashboard and src/shared into dist/, served
// under ConsolePrefix and DashboardPrefix with a strict CSP, plus each
// page's config.json naming the OpenID Connect issuer and client id it
// signs in with (the local dev issuer, or Cognito in AWS).

//go:embed dist/console.html dist/console.js dist/dashboard.html dist/dashboard.js dist/app.css
var consoleDist embed.FS

// Where the consoles are served.
const (
	ConsolePrefix   = "/console/"
	DashboardPrefix = "/dashboard/"
)

// ConsoleOptions configure Consoles.
type ConsoleOptions struct {
	// Issuer is the OpenID Connect issuer; its discovery document is at
	// Issuer + "/.well-known/openid-configuration" (the local dev issuer
	// http://HOST/dev, or https://cognito-idp.REGION.amazonaws.com/POOL).
	Issuer string
	// ConsoleClientID and DashboardClientID are the two public app clients.
	ConsoleClientID, DashboardClientID string
	// DirectorClientID, if set, is the medical directors' app client: the
	// dashboard then offers their sign-in beside the clinic's.
	DirectorClientID string
	// API is the API's origin; empty means this origin.
	API string
	// ConnectSrc are origins other than this one the pages call: the API's
	// if elsewhere, the identity provider's (Cognito's issuer and hosted-UI
	// domains).
	ConnectSrc []string
	// ImgSrc are origins photos are shown from (the blob bucket in AWS).
	ImgSrc []string
	// Signal is the signaling WebSocket's URL for the provider console's
	// call panel: in AWS the WebSocket API's own endpoint
	// (wss://{api}.execute-api.{region}.amazonaws.com/{stage}, the stack's
	// SignalUrl output). Empty means /v1/signal on the API's origin (the
	// local server). A value that is not a plain ws(s) URL is ignored.
	Signal string
	// IdleSeconds locks a console after this long without input (default
	// 900; a page may ask for less with ?idle=N, never more).
	IdleSeconds int
	// PollMillis is how often the provider console refreshes its queue
	// (default 5000).
	PollMillis int
}

type page struct{ html, js string }

var consolePages = map[string]page{
	ConsolePrefix:   {"dist/console.html", "console.js"},
	DashboardPrefix: {"dist/dashboard.html", "dashboard.js"},
}

// signalURL returns u and its origin when u is a plain ws:// or wss:// URL
// (no credentials, query or fragment, nothing that could break out of a
// CSP directive), else empty strings.
func signalURL(u string) (full, origin string) {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "wss" && p.Scheme != "ws") || p.Host == "" || p.User != nil || p.RawQuery != "" || p.Fragment != "" ||
		strings.ContainsAny(u, " ;,'\"\t\r\n") {
		return "", ""
	}
	return u, p.Scheme + "://" + p.Host
}

// ConsoleCSP is the consoles' policy: our own scripts and styles only.
// connect lists http(s) origins; signal, when not empty, is the signaling
// WebSocket's ws(s) origin (already checked by signalURL).
func ConsoleCSP(connect, img []string, signal string) string {
	cs := "'self'"
	if o := SafeOrigins(connect); len(o) > 0 {
		cs += " " + strings.Join(o, " ")
	}
	if signal != "" {
		cs += " " + signal
	}
	is := "'self' blob: data:"
	if o := SafeOrigins(img); len(o) > 0 {
		is += " " + strings.Join(o, " ")
	}
	return "default-src 'none'; script-src 'self'; style-src 'self'; img-src " + is + "; connect-src " + cs +
		"; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
}

// Consoles serves the provider console under ConsolePrefix and the clinic
// dashboard under DashboardPrefix (mount it at both).
func Consoles(o ConsoleOptions) http.Handler {
	if o.IdleSeconds <= 0 {
		o.IdleSeconds = 900
	}
	if o.PollMillis <= 0 {
		o.PollMillis = 5000
	}
	signal, signalOrigin := signalURL(o.Signal)
	csp := ConsoleCSP(append([]string{o.API}, o.ConnectSrc...), o.ImgSrc, signalOrigin)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Content-Security-Policy", csp)
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		var prefix string
		for p := range consolePages {
			if strings.HasPrefix(r.URL.Path, p) {
				prefix = p
			}
		}
		if prefix == "" {
			http.NotFound(w, r)
			return
		}
		pg := consolePages[prefix]
		name := strings.TrimPrefix(r.URL.Path, prefix)
		serve := func(file, ctype string) {
			b, err := consoleDist.ReadFile(file)
			if err != nil {
				http.Error(w, "console not built", http.StatusInternalServerError)
				return
			}
			h.Set("Content-Type", ctype)
			_, _ = w.Write(b)
		}
		switch name {
		case "":
			serve(pg.html, "text/html; charset=utf-8")
		case pg.js:
			serve("dist/"+pg.js, "text/javascript; charset=utf-8")
		case "app.css":
			serve("dist/app.css", "text/css; charset=utf-8")
		case "config.json":
			client := o.ConsoleClientID
			if prefix == DashboardPrefix {
				client = o.DashboardClientID
			}
			h.Set("Content-Type", "application/json")
			cfg := map[string]string{
				"issuer": o.Issuer, "client_id": client, "api": o.API, "signal": signal,
				"idle_seconds": strconv.Itoa(o.IdleSeconds), "poll_ms": strconv.Itoa(o.PollMillis),
			}
			if prefix == DashboardPrefix && o.DirectorClientID != "" {
				cfg["director_client_id"] = o.DirectorClientID
			}
			_ = json.NewEncoder(w).Encode(cfg)
		default:
			http.NotFound(w, r)
		}
	})
}
