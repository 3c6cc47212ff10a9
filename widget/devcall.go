package widget

import (
	"embed"
	"net/http"
	"strings"
)

// The provider call page for local development (issue 7): a minimal page
// on src/shared/call.ts that goes online as a provider (POST /dev/token),
// accepts rings and holds the call with the patient's widget. The local
// server serves it with -dev only; it is the provider side of the widget's
// browser-to-browser test until the provider console has a call panel.

//go:embed dist/devcall.html dist/devcall.js
var devCallDist embed.FS

// DevCallPrefix is where DevCall is served: DevCallPrefix+"?provider=ID".
const DevCallPrefix = "/dev/call/"

// DevCall serves the development provider call page under DevCallPrefix.
func DevCall() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		var name, ctype string
		switch strings.TrimPrefix(r.URL.Path, DevCallPrefix) {
		case "":
			name, ctype = "dist/devcall.html", "text/html; charset=utf-8"
		case "devcall.js":
			name, ctype = "dist/devcall.js", "text/javascript; charset=utf-8"
		default:
			http.NotFound(w, r)
			return
		}
		b, err := devCallDist.ReadFile(name)
		if err != nil {
			http.Error(w, "widget not built", http.StatusInternalServerError)
			return
		}
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'")
		h.Set("Permissions-Policy", "camera=(self), microphone=(self), geolocation=()")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Content-Type", ctype)
		_, _ = w.Write(b)
	})
}
