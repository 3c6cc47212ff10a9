package pso

import (
	"context"
	"encoding/base64"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goodfaith/goodfaith/internal/blob"
	"github.com/goodfaith/goodfaith/internal/blob/dirblob"
	"github.com/goodfaith/goodfaith/internal/jwk"
	"github.com/goodfaith/goodfaith/internal/signer"
)

var issued = time.Date(2026, 11, 22, 15, 0, 0, 0, time.UTC)

func issueOne(t *testing.T) (Record, signer.Keyring, blob.Store) {
	t.Helper()
	key, err := signer.LoadOrCreateFileKey(filepath.Join(t.TempDir(), "key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := dirblob.New(t.TempDir(), dirblob.Options{BaseURL: "http://127.0.0.1:1/blobs", Secret: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	doc := Document{
		ID: "pso_1", ExamID: "exam_1", Clinic: Party{ID: "clinic_a", Name: "A"},
		Patient:  Patient{FirstName: "Maria", LastName: "García", DOB: "1990-04-12", State: "TX"},
		Provider: Prescriber{ID: "p", Name: "Dana", Credential: "MD", NPI: "1234567893", LicenseState: "TX", LicenseType: "MD", LicenseNumber: "TX-1"},
		Orders:   []Order{{Treatment: "neurotoxin", Product: "Botox", Dose: "20 units", Route: "IM", ValidDays: 180}},
		IssuedAt: issued, ValidUntil: "2027-05-21", Attestation: Attestation{Text: AttestationText, AcceptedAt: issued},
	}
	rec, op, err := Issuer{Signer: key, Blobs: blobs}.Issue(context.Background(), doc, "clinic_a")
	if err != nil {
		t.Fatal(err)
	}
	if op.Put == nil || op.Put.PK != "PSO#pso_1" {
		t.Fatalf("index op = %+v", op)
	}
	return rec, signer.Keyring{Current: key}, blobs
}

func TestIssueStoresWriteOnceAndVerifies(t *testing.T) {
	rec, ring, blobs := issueOne(t)
	body, obj, err := blobs.Get(context.Background(), rec.ObjectKey)
	if err != nil || string(body) != rec.JWS || obj.SHA256 != rec.SHA256 {
		t.Fatalf("stored object: %v", err)
	}
	if !obj.RetainUntil.Equal(issued.AddDate(10, 0, 0)) {
		t.Fatalf("retention %v, want 10 years", obj.RetainUntil)
	}
	if err := blobs.Delete(context.Background(), rec.ObjectKey); !errors.Is(err, blob.ErrRetained) {
		t.Fatalf("delete: %v", err)
	}
	v := Verify(rec.JWS, ring.JWKS(), issued.Add(time.Hour))
	if !v.Valid || v.Doc.Patient.LastName != "García" || v.Doc.Schema != Schema {
		t.Fatalf("verify = %+v", v)
	}
}

func TestVerifyReasons(t *testing.T) {
	rec, ring, _ := issueOne(t)
	parts := strings.Split(rec.JWS, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	forged := strings.Replace(string(payload), "García", "Garcia", 1)
	other, err := signer.LoadOrCreateFileKey(filepath.Join(t.TempDir(), "other.pem"))
	if err != nil {
		t.Fatal(err)
	}
	otherSet := jwk.Set{Keys: []jwk.Key{jwk.FromECDSA(other.Public(), ring.Current.KeyID())}}
	cases := map[string]struct {
		jws  string
		keys jwk.Set
		at   time.Time
		want string
	}{
		"payload byte changed": {parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(forged)) + "." + parts[2], ring.JWKS(), issued, ReasonBadSignature},
		"signature changed":    {parts[0] + "." + parts[1] + "." + flip(parts[2]), ring.JWKS(), issued, ReasonBadSignature},
		"swapped JWKS":         {rec.JWS, otherSet, issued, ReasonBadSignature},
		"unknown kid":          {rec.JWS, jwk.Set{}, issued, ReasonUnknownKey},
		"expired":              {rec.JWS, ring.JWKS(), time.Date(2027, 5, 22, 0, 0, 0, 0, time.UTC), ReasonExpired},
		"garbage":              {"a.b", ring.JWKS(), issued, ReasonMalformed},
	}
	for name, c := range cases {
		if v := Verify(c.jws, c.keys, c.at); v.Valid || v.Reason != c.want {
			t.Errorf("%s: got %+v, want %s", name, v, c.want)
		}
	}
	if v := Verify(rec.JWS, ring.JWKS(), time.Date(2027, 5, 21, 23, 0, 0, 0, time.UTC)); !v.Valid {
		t.Errorf("valid on its last day: %+v", v)
	}
}

func flip(s string) string {
	b := []byte(s)
	if b[5] == 'A' {
		b[5] = 'B'
	} else {
		b[5] = 'A'
	}
	return string(b)
}
