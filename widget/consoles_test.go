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

// TestConsolesSignalURL: the call panel's signaling URL (AWS: the WebSocket
// API's own endpoint) reaches config.json and the CSP's connect-src as an
// origin; anything but a plain ws(s) URL is dropped from both.
func TestConsolesSignalURL(t *testing.T) {
	for _, tc := range []struct{ in, config, connect string }{
		{"wss://abc123.execute-api.us-east-1.amazonaws.com/prod", "wss://abc123.execute-api.us-east-1.amazonaws.com/prod", "connect-src 'self' wss://abc123.execute-api.us-east-1.amazonaws.com;"},
		{"ws://127.0.0.1:9000/v1/signal", "ws://127.0.0.1:9000/v1/signal", "connect-src 'self' ws://127.0.0.1:9000;"},
		{"", "", "connect-src 'self';"},
		{"https://api.example.com/prod", "", "connect-src 'self';"},
		{"wss://evil.example/x; script-src *", "", "connect-src 'self';"},
		{"wss://a.example/prod?token=x", "", "connect-src 'self';"},
		{"wss://user:pw@a.example/prod", "", "connect-src 'self';"},
	} {
		h := Consoles(ConsoleOptions{Issuer: "http://127.0.0.1:8080/dev", Signal: tc.in})
		var cfg map[string]string
		rec := get(h, "/console/config.json")
		if err := json.Unmarshal(rec.Body.Bytes(), &cfg); err != nil || cfg["signal"] != tc.config {
			t.Errorf("%q: config.json signal %q (%v), want %q", tc.in, cfg["signal"], err, tc.config)
		}
		if csp := get(h, "/console/").Header().Get("Content-Security-Policy"); !strings.Contains(csp, tc.connect) {
			t.Errorf("%q: CSP %q lacks %q", tc.in, csp, tc.connect)
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
