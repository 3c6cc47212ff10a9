package app_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/goodfaith/goodfaith/internal/app"
	"github.com/goodfaith/goodfaith/internal/app/localhome"
	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/directory/seedtest"
)

// TestPatientHandlerServesTheWidgetAndTheAPI: the patient function's
// handler answers the widget (the frame with its clinic's frame-ancestors
// and the blob origin in connect-src, the loader) and the patient API.
func TestPatientHandlerServesTheWidgetAndTheAPI(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	home, err := localhome.Open(t.TempDir(), "http://127.0.0.1:1", clock.System{}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer home.Close()
	a, err := app.New(home.Ports, app.Settings{PatientSecret: home.PatientSecret, TokenIssuer: "https://app.goodfaith.test",
		PublicOrigin: "https://app.goodfaith.test", VerifyBaseURL: "https://app.goodfaith.test/v1/psos/", Log: log})
	if err != nil {
		t.Fatal(err)
	}
	seed := seedtest.E2E(t)
	if err := a.LoadSeed(context.Background(), seed); err != nil {
		t.Fatal(err)
	}
	h := a.PatientHandler("https://docs.s3.us-east-1.amazonaws.com")
	get := func(path string, hdr ...string) *http.Response {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Result()
	}
	frame := get("/widget/frame.html?key=pk_test_a")
	csp := frame.Header.Get("Content-Security-Policy")
	if frame.StatusCode != 200 || !strings.Contains(csp, "frame-ancestors https://clinic-a.example") || !strings.Contains(csp, "connect-src 'self' https://docs.s3.us-east-1.amazonaws.com") {
		t.Errorf("frame: %d, CSP %q; want the clinic's origin as ancestor and the bucket in connect-src", frame.StatusCode, csp)
	}
	if r := get("/widget/frame.html?key=pk_nosuch"); r.StatusCode != 404 {
		t.Errorf("frame of an unknown key: %d", r.StatusCode)
	}
	if r := get("/widget/goodfaith.js"); r.StatusCode != 200 || r.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("loader: %d %v", r.StatusCode, r.Header)
	}
	if r := get("/v1/widget/config", "Origin", "https://clinic-a.example", "X-Goodfaith-Key", "pk_test_a"); r.StatusCode != 200 {
		b, _ := io.ReadAll(r.Body)
		t.Errorf("GET /v1/widget/config: %d %s", r.StatusCode, b)
	}
	if r := get("/v1/provider/queue"); r.StatusCode != 404 {
		t.Errorf("a provider route answered %d on the patient handler; want 404", r.StatusCode)
	}
}
