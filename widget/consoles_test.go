package widget

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
)

func TestConsolesServePagesUnderAStrictCSP(t *testing.T) {
	h := Consoles(ConsoleOptions{Issuer: "http://127.0.0.1:8080/dev", ConsoleClientID: "console", DashboardClientID: "dashboard",
		ConnectSrc: []string{"https://auth.example.com", "https://evil.example; script-src *"}, ImgSrc: []string{"https://bucket.s3.amazonaws.com"}})
	for target, want := range map[string]string{
		"/console/":               `src="console.js"`,
		"/dashboard/":             `src="dashboard.js"`,
		"/console/console.js":     "",
		"/dashboard/dashboard.js": "",
		"/console/app.css":        "",
		"/dashboard/app.css":      "",
	} {
		rec := get(h, target)
		if rec.Code != 200 || rec.Body.Len() == 0 || !strings.Contains(rec.Body.String(), want) {
			t.Errorf("%s: %d (%d bytes)", target, rec.Code, rec.Body.Len())
		}
		csp := rec.Header().Get("Content-Security-Policy")
		for _, must := range []string{"default-src 'none'", "script-src 'self';", "style-src 'self';", "frame-ancestors 'none'", "connect-src 'self' https://auth.example.com;", "img-src 'self' blob: data: https://bucket.s3.amazonaws.com;"} {
			if !strings.Contains(csp, must) {
				t.Errorf("%s: CSP %q lacks %q", target, csp, must)
			}
		}
		if strings.Contains(csp, "evil") || strings.Contains(csp, "unsafe") {
			t.Errorf("%s: CSP %q", target, csp)
		}
		if rec.Header().Get("Cache-Control") != "no-store" || rec.Header().Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: headers %v", target, rec.Header())
		}
	}
	for prefix, client := range map[string]string{"/console/": "console", "/dashboard/": "dashboard"} {
		var cfg map[string]string
		rec := get(h, prefix+"config.json")
		if err := json.Unmarshal(rec.Body.Bytes(), &cfg); err != nil || cfg["client_id"] != client || cfg["issuer"] != "http://127.0.0.1:8080/dev" || cfg["idle_seconds"] != "900" {
			t.Errorf("%sconfig.json: %v %v", prefix, cfg, err)
		}
	}
	for _, target := range []string{"/console/dashboard.js", "/dashboard/console.js", "/console/../embed.go", "/console/x", "/consoles/", "/other"} {
		if rec := get(h, target); rec.Code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", target, rec.Code)
		}
	}
}

// TestConsoleDistEmbedded: the embedded console files are the ones on disk
// (TestDistIsFresh checks they were built from the current sources).
func TestConsoleDistEmbedded(t *testing.T) {
	for _, a := range []string{"dist/console.html", "dist/console.js", "dist/dashboard.html", "dist/dashboard.js", "dist/app.css"} {
		disk, err := os.ReadFile(a)
		if err != nil {
			t.Fatal(err)
		}
		emb, _ := consoleDist.ReadFile(a)
		if !bytes.Equal(disk, emb) || len(emb) == 0 {
			t.Fatalf("%s: embedded copy differs from disk or is empty", a)
		}
	}
}
