package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goodfaith/goodfaith/internal/blob/dirblob"
	"github.com/goodfaith/goodfaith/internal/pso"
	"github.com/goodfaith/goodfaith/internal/signer"
)

var issued = time.Date(2026, 11, 22, 15, 0, 0, 0, time.UTC)

// fixture issues a PSO and writes its JWS, its PDF and the JWKS to files.
type fixture struct {
	dir, jws, pdf, jwks string
	rec                 pso.Record
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	dir := t.TempDir()
	key, err := signer.LoadOrCreateFileKey(filepath.Join(dir, "key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := dirblob.New(filepath.Join(dir, "blobs"), dirblob.Options{BaseURL: "http://127.0.0.1:1/blobs", Secret: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	doc := pso.Document{
		ID: "pso_cli", ExamID: "exam_cli", Clinic: pso.Party{ID: "clinic_a", Name: "Glow Med Spa"},
		Patient:  pso.Patient{FirstName: "Maria", LastName: "García", DOB: "1990-04-12", State: "TX"},
		Provider: pso.Prescriber{ID: "p", Name: "Dana Reyes", Credential: "MD", NPI: "1234567893", LicenseState: "TX", LicenseType: "MD", LicenseNumber: "TX-Q1234"},
		Orders:   []pso.Order{{Treatment: "neurotoxin", Product: "Botox", Dose: "20 units", Route: "IM", ValidDays: 180}},
		Findings: pso.Findings{Screened: []string{"neurotoxin"}}, Attestation: pso.Attestation{Text: pso.AttestationText, AcceptedAt: issued},
		IssuedAt: issued, ValidUntil: "2027-05-21",
	}
	rec, _, err := pso.Issuer{Signer: key, Blobs: blobs, VerifyBaseURL: "https://app.example.com/v1/psos/"}.Issue(context.Background(), doc, "clinic_a")
	if err != nil {
		t.Fatal(err)
	}
	pdf, _, err := blobs.Get(context.Background(), rec.PDFKey)
	if err != nil {
		t.Fatal(err)
	}
	jwks, _ := json.Marshal(signer.Keyring{Current: key}.JWKS())
	f := fixture{dir: dir, jws: filepath.Join(dir, "order.jws"), pdf: filepath.Join(dir, "order.pdf"), jwks: filepath.Join(dir, "jwks.json"), rec: rec}
	for path, b := range map[string][]byte{f.jws: []byte(rec.JWS + "\n"), f.pdf: pdf, f.jwks: jwks} {
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f fixture) write(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(f.dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func runCLI(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestVerifiesJWSAndPDFOffline(t *testing.T) {
	f := newFixture(t)
	code, out, stderr := runCLI("-jwks", f.jwks, "-at", "2027-01-01", f.jws, f.pdf)
	if code != 0 || strings.Count(out, "VALID pso_cli") != 2 || !strings.Contains(out, "Dana Reyes, MD (TX TX-Q1234)") {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
}

func TestReportsEachFailureWithItsReason(t *testing.T) {
	f := newFixture(t)
	parts := strings.Split(f.rec.JWS, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	altered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(bytes.Replace(payload, []byte("20 units"), []byte("90 units"), 1)) + "." + parts[2]
	// Flip a bit of the signature itself, not of its base64 text: a flipped
	// character can fall outside the alphabet and make the JWS malformed.
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sig[3] ^= 1
	badSig := parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig)
	other, err := signer.LoadOrCreateFileKey(filepath.Join(f.dir, "other.pem"))
	if err != nil {
		t.Fatal(err)
	}
	var kid struct {
		Keys []map[string]string `json:"keys"`
	}
	swapped, _ := json.Marshal(signer.Keyring{Current: other}.JWKS())
	_ = json.Unmarshal(swapped, &kid)
	kid.Keys[0]["kid"] = f.rec.KeyID // another key under this order's kid
	swapped, _ = json.Marshal(kid)
	pdf, _ := os.ReadFile(f.pdf)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"payload", []string{"-jwks", f.jwks, f.write(t, "p.jws", []byte(altered))}, "INVALID payload_altered"},
		{"signature", []string{"-jwks", f.jwks, f.write(t, "s.jws", []byte(badSig))}, "INVALID bad_signature"},
		{"swapped JWKS", []string{"-jwks", f.write(t, "swapped.json", swapped), f.jws}, "INVALID key_mismatch"},
		{"other key only", []string{"-jwks", f.write(t, "other.json", mustJSON(signer.Keyring{Current: other}.JWKS())), f.jws}, "INVALID unknown_key"},
		{"expired", []string{"-jwks", f.jwks, "-at", "2027-05-22", f.pdf}, "INVALID expired (pso_cli)"},
		{"revoked", []string{"-jwks", f.jwks, "-at", "2027-01-01", "-revocations", f.write(t, "rev.json", []byte(`{"revoked":[{"id":"pso_cli","revoked_at":"2026-12-01T10:00:00Z"}]}`)), f.jws}, "INVALID revoked (pso_cli) revoked at 2026-12-01T10:00:00Z"},
		{"PDF without order", []string{"-jwks", f.jwks, f.write(t, "cut.pdf", pdf[:len(pdf)/3])}, "INVALID malformed"},
	}
	for _, c := range cases {
		code, out, stderr := runCLI(c.args...)
		if code != 1 || !strings.Contains(out, c.want) {
			t.Errorf("%s: exit %d, %q %q; want %q", c.name, code, out, stderr, c.want)
		}
	}
}

func TestFetchesKeysAndRevocationsOverHTTP(t *testing.T) {
	f := newFixture(t)
	jwks, _ := os.ReadFile(f.jwks)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/.well-known/jwks.json":
			w.Write(jwks)
		case r.URL.Path == "/v1/psos/revocations" && r.URL.Query().Get("cursor") == "":
			w.Write([]byte(`{"revoked":[{"id":"pso_other","revoked_at":"2026-12-01T10:00:00Z"}],"next_cursor":"p2"}`))
		case r.URL.Path == "/v1/psos/revocations" && r.URL.Query().Get("cursor") == "p2":
			w.Write([]byte(`{"revoked":[{"id":"pso_cli","revoked_at":"2026-12-02T10:00:00Z"}],"next_cursor":null}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	code, out, stderr := runCLI("-jwks", srv.URL+"/.well-known/jwks.json", "-at", "2027-01-01", f.jws)
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, stderr)
	}
	code, out, _ = runCLI("-json", "-jwks", srv.URL+"/.well-known/jwks.json", "-revocations", srv.URL+"/v1/psos/revocations", "-at", "2027-01-01", f.jws)
	var r result
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != 1 || r.Reason != "revoked" || r.RevokedAt == nil {
		t.Fatalf("exit %d, %s (%v): the revocation on the second page was missed", code, out, err)
	}
}

func TestUsageAndUnreadableInputs(t *testing.T) {
	f := newFixture(t)
	for name, args := range map[string][]string{
		"no jwks":      {f.jws},
		"no file":      {"-jwks", f.jwks},
		"missing file": {"-jwks", f.jwks, filepath.Join(f.dir, "nope.jws")},
		"bad jwks":     {"-jwks", f.jws, f.jws},
		"bad date":     {"-jwks", f.jwks, "-at", "tomorrow", f.jws},
	} {
		if code, _, _ := runCLI(args...); code != 2 {
			t.Errorf("%s: exit %d, want 2", name, code)
		}
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
