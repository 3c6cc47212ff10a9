package widget

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// sourceHash must match build.mjs's sourceHash.
func sourceHash(t *testing.T) string {
	t.Helper()
	var files []string
	err := filepath.WalkDir("src", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			files = append(files, filepath.ToSlash(p))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, "build.mjs")
	slices.Sort(files)
	h := sha256.New()
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(h, "%s\n%d\n", f, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestDistIsFresh fails when widget/src changed after dist/ was built:
// run `npm ci && npm run build` in widget/ and commit dist/.
func TestDistIsFresh(t *testing.T) {
	recorded, err := dist.ReadFile("dist/SOURCES.sha256")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := sourceHash(t), strings.TrimSpace(string(recorded)); got != want {
		t.Fatalf("widget/dist is stale: sources hash %s, dist built from %s; run `cd widget && npm ci && npm run build` and commit dist/", got, want)
	}
	// And the embedded files are the ones on disk (nobody built without
	// committing, or committed half a build).
	for _, a := range []string{"dist/goodfaith.js", "dist/frame.js", "dist/frame.css", "dist/frame.html"} {
		disk, err := os.ReadFile(a)
		if err != nil {
			t.Fatal(err)
		}
		emb, _ := dist.ReadFile(a)
		if !bytes.Equal(disk, emb) || len(emb) == 0 {
			t.Fatalf("%s: embedded copy differs from disk or is empty", a)
		}
	}
}

func testHandler() http.Handler {
	return Handler(Options{
		Origins: func(_ context.Context, pk string) ([]string, bool, error) {
			switch pk {
			case "pk_test_glow":
				return []string{"https://glow.example", "http://localhost:8080", "https://evil.example; script-src *", "javascript:alert(1)"}, true, nil
			case "pk_test_broken":
				return nil, false, errors.New("store down")
			}
			return nil, false, nil
		},
		ConnectSrc: []string{"https://bucket.s3.us-east-1.amazonaws.com"},
	})
}

func get(h http.Handler, target string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	return rec
}

func TestFrameIsEmbeddableOnlyByTheClinicsOrigins(t *testing.T) {
	h := testHandler()
	rec := get(h, "/widget/frame.html?key=pk_test_glow")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `src="frame.js"`) {
		t.Fatalf("frame: %d %q", rec.Code, rec.Body.String())
	}
	csp := rec.Header().Get("Content-Security-Policy")
	want := "frame-ancestors https://glow.example http://localhost:8080"
	if !strings.HasSuffix(csp, want) {
		t.Fatalf("CSP %q does not end with %q", csp, want)
	}
	for _, must := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self' https://bucket.s3.us-east-1.amazonaws.com"} {
		if !strings.Contains(csp, must) {
			t.Errorf("CSP %q lacks %q", csp, must)
		}
	}
	if strings.Contains(csp, "evil") || strings.Contains(csp, "javascript") {
		t.Errorf("CSP %q carries an unsafe stored origin", csp)
	}
	if rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("frame page may be cached: %q", rec.Header().Get("Cache-Control"))
	}

	for _, target := range []string{"/widget/frame.html", "/widget/frame.html?key=pk_unknown", "/widget/frame.html?key=sk_test_glow", "/widget/frame.html?key=pk_%3Cx%3E"} {
		rec := get(h, target)
		if rec.Code != http.StatusNotFound || !strings.Contains(rec.Header().Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Errorf("%s: %d CSP %q, want 404 with frame-ancestors 'none'", target, rec.Code, rec.Header().Get("Content-Security-Policy"))
		}
	}
	if rec := get(h, "/widget/frame.html?key=pk_test_broken"); rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Header().Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("lookup failure: %d %q", rec.Code, rec.Header().Get("Content-Security-Policy"))
	}
}

func TestAssets(t *testing.T) {
	h := testHandler()
	for target, ctype := range map[string]string{"/widget/goodfaith.js": "text/javascript", "/widget/frame.js": "text/javascript", "/widget/frame.css": "text/css"} {
		rec := get(h, target)
		if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), ctype) || rec.Body.Len() == 0 {
			t.Errorf("%s: %d %q (%d bytes)", target, rec.Code, rec.Header().Get("Content-Type"), rec.Body.Len())
		}
		if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", target)
		}
	}
	if got := get(h, "/widget/goodfaith.js").Header().Get("Cross-Origin-Resource-Policy"); got != "cross-origin" {
		t.Errorf("loader CORP %q, want cross-origin (other sites load it)", got)
	}
	for _, target := range []string{"/widget/SOURCES.sha256", "/widget/../embed.go", "/widget/dist/frame.js", "/other"} {
		if rec := get(h, target); rec.Code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", target, rec.Code)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/widget/goodfaith.js", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", rec.Code)
	}
}

func TestDemoPageEmbedsTheWidgetUnderAStrictCSP(t *testing.T) {
	h := Demo("http://127.0.0.1:8080", "pk_test_glow", `Glow <b>Med</b> Spa`)
	rec := get(h, "/demo/?lang=es&mode=button")
	body := rec.Body.String()
	if rec.Code != 200 {
		t.Fatalf("demo: %d", rec.Code)
	}
	for _, must := range []string{`src="http://127.0.0.1:8080/widget/goodfaith.js"`, `data-key="pk_test_glow"`, `data-lang="es"`, `data-mode="button"`, "Glow &lt;b&gt;Med&lt;/b&gt; Spa"} {
		if !strings.Contains(body, must) {
			t.Errorf("demo page lacks %q", must)
		}
	}
	csp := rec.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self' http://127.0.0.1:8080;") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("demo CSP %q", csp)
	}
	if rec := get(h, "/demo/demo.js"); rec.Code != 200 || !strings.Contains(rec.Body.String(), "goodfaith:decided") {
		t.Errorf("demo.js: %d", rec.Code)
	}
	if rec := get(h, "/demo/index.html"); rec.Code != 404 {
		t.Errorf("template served raw: %d", rec.Code)
	}
}

func TestSafeOrigins(t *testing.T) {
	got := SafeOrigins([]string{"https://a.example", "https://a.example/", "http://b.example:8080", "ftp://c", "https://x/path", "https://user@x", "*", "", "https://d.example?q", "https://e.example 'unsafe-inline'"})
	want := []string{"https://a.example", "https://a.example", "http://b.example:8080"}
	if !slices.Equal(got, want) {
		t.Fatalf("SafeOrigins = %q, want %q", got, want)
	}
}

// TestInvitePage: an invite link (Prefix?exam=…#patient_token=…) opens the
// frame app as a page that no site may embed, uncached, sending no referrer.
func TestInvitePage(t *testing.T) {
	rec := get(testHandler(), "/widget/?exam=ex_123")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `src="frame.js"`) {
		t.Fatalf("invite page: %d %q", rec.Code, rec.Body.String())
	}
	csp := rec.Header().Get("Content-Security-Policy")
	for _, must := range []string{"frame-ancestors 'none'", "script-src 'self'", "connect-src 'self' https://bucket.s3.us-east-1.amazonaws.com"} {
		if !strings.Contains(csp, must) {
			t.Errorf("invite CSP %q lacks %q", csp, must)
		}
	}
	for k, want := range map[string]string{"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "Content-Type": "text/html; charset=utf-8"} {
		if got := rec.Header().Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
}
