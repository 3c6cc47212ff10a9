// Package widget serves the embeddable patient widget built from this
// folder's TypeScript (npm run build → dist/, committed so the Go server
// needs no Node): the loader script clinics paste into their sites, the
// frame page it injects, and a demo clinic page.
//
// The frame page is where patients type their health history, so it may be
// embedded only by the clinic's allowed origins: frame.html?key=pk_… is
// served with a Content-Security-Policy whose frame-ancestors lists the
// origins of the clinic that key belongs to. That restriction is what lets
// the API trust calls from the frame's own origin (httpapi's PublicOrigin).
package widget

import (
	"context"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
)

//go:embed dist/goodfaith.js dist/frame.js dist/frame.css dist/frame.html dist/SOURCES.sha256
var dist embed.FS

//go:embed demo
var demo embed.FS

// Prefix is where Handler serves the widget: Prefix+"goodfaith.js" is the
// script tag's src.
const Prefix = "/widget/"

// DemoPrefix is where Demo serves the demo clinic page.
const DemoPrefix = "/demo/"

// OriginsFunc returns the origins allowed to embed the frame for a
// publishable key; found is false for an unknown key.
type OriginsFunc func(ctx context.Context, publishableKey string) (origins []string, found bool, err error)

// Options configure Handler.
type Options struct {
	// Origins looks up a clinic's allowed origins by publishable key.
	Origins OriginsFunc
	// ConnectSrc are origins other than our own the frame may call: where
	// presigned photo uploads go (the S3 bucket's origin in AWS; empty
	// locally, where blobs are served by this origin).
	ConnectSrc []string
}

type asset struct {
	name, contentType string
	crossOrigin       bool // loaded by other sites' pages
}

var assets = map[string]asset{
	"goodfaith.js": {"dist/goodfaith.js", "text/javascript; charset=utf-8", true},
	"frame.js":     {"dist/frame.js", "text/javascript; charset=utf-8", false},
	"frame.css":    {"dist/frame.css", "text/css; charset=utf-8", false},
}

// Handler serves the widget under Prefix.
func Handler(o Options) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name, ok := strings.CutPrefix(r.URL.Path, Prefix)
		if !ok {
			http.NotFound(w, r)
			return
		}
		if name == "frame.html" {
			serveFrame(w, r, o)
			return
		}
		if name == "" {
			serveInvite(w, o)
			return
		}
		a, ok := assets[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		b, err := dist.ReadFile(a.name)
		if err != nil {
			http.Error(w, "widget not built", http.StatusInternalServerError)
			return
		}
		h.Set("Content-Type", a.contentType)
		h.Set("Cache-Control", "public, max-age=300")
		if a.crossOrigin {
			h.Set("Cross-Origin-Resource-Policy", "cross-origin")
			h.Set("Access-Control-Allow-Origin", "*")
		} else {
			h.Set("Cross-Origin-Resource-Policy", "same-origin")
		}
		_, _ = w.Write(b)
	})
}

// frameCSP is the frame page's policy: only our own scripts, styles and
// API, and embedding only by the given origins.
func frameCSP(ancestors, connect []string) string {
	fa := "'none'"
	if len(ancestors) > 0 {
		fa = strings.Join(ancestors, " ")
	}
	cs := "'self'"
	if len(connect) > 0 {
		cs += " " + strings.Join(connect, " ")
	}
	return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src " + cs +
		"; form-action 'none'; base-uri 'none'; frame-ancestors " + fa
}

func serveFrame(w http.ResponseWriter, r *http.Request, o Options) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	key := r.URL.Query().Get("key")
	var origins []string
	found := false
	if validKey(key) && o.Origins != nil {
		var err error
		origins, found, err = o.Origins(r.Context(), key)
		if err != nil {
			h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
			http.Error(w, "the widget is unavailable right now", http.StatusServiceUnavailable)
			return
		}
	}
	if !found {
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		http.Error(w, "unknown widget key", http.StatusNotFound)
		return
	}
	b, err := dist.ReadFile("dist/frame.html")
	if err != nil {
		http.Error(w, "widget not built", http.StatusInternalServerError)
		return
	}
	h.Set("Content-Security-Policy", frameCSP(SafeOrigins(origins), SafeOrigins(o.ConnectSrc)))
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(self), microphone=(self), geolocation=()")
	_, _ = w.Write(b)
}

// serveInvite serves Prefix itself, where an invite link lands
// (internal/invite: Prefix?exam=…#patient_token=…): the frame app as a page
// of its own, which no other site may embed. The token stays in the
// fragment, which browsers never send to a server; the app reads it and
// removes it from the address bar.
func serveInvite(w http.ResponseWriter, o Options) {
	b, err := dist.ReadFile("dist/frame.html")
	if err != nil {
		http.Error(w, "widget not built", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", frameCSP(nil, SafeOrigins(o.ConnectSrc)))
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(self), microphone=(self), geolocation=()")
	_, _ = w.Write(b)
}

// validKey mirrors auth.ValidPublishableKeyFormat without importing it: a
// "pk_" prefix and [A-Za-z0-9_-] up to 128 characters.
func validKey(k string) bool {
	body, ok := strings.CutPrefix(k, "pk_")
	if !ok || body == "" || len(k) > 128 {
		return false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// SafeOrigins keeps the entries that are plain http(s) origins
// (scheme://host[:port], nothing else), so no stored value can change the
// meaning of a header it is written into.
func SafeOrigins(in []string) []string {
	var out []string
	for _, o := range in {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(o, " ;,'\"\t\r\n") {
			continue
		}
		out = append(out, u.Scheme+"://"+u.Host)
	}
	return out
}

// Demo serves a clinic's demo page under DemoPrefix: the widget embedded
// by its script tag from widgetOrigin (which must differ from the page's
// own origin for the demo to be a true cross-origin embed), under a strict
// Content-Security-Policy that allows only that origin.
func Demo(widgetOrigin, publishableKey, clinicName string) http.Handler {
	page := template.Must(template.ParseFS(demo, "demo/index.html"))
	static, _ := fs.Sub(demo, "demo")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		origin := SafeOrigins([]string{widgetOrigin})
		if len(origin) == 0 {
			http.Error(w, "bad widget origin", http.StatusInternalServerError)
			return
		}
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self' "+origin[0]+"; frame-src "+origin[0]+"; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'")
		name := path.Clean("/" + strings.TrimPrefix(r.URL.Path, DemoPrefix))
		switch name {
		case "/":
			h.Set("Content-Type", "text/html; charset=utf-8")
			_ = page.Execute(w, map[string]string{"Src": origin[0] + Prefix + "goodfaith.js", "Key": publishableKey, "Clinic": clinicName, "Mode": r.URL.Query().Get("mode"), "Lang": r.URL.Query().Get("lang")})
		case "/demo.css", "/demo.js":
			http.ServeFileFS(w, r, static, name[1:])
		default:
			http.NotFound(w, r)
		}
	})
}
