package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// The fuzz targets run their seed corpus (valid tokens and every attack
// token) as ordinary tests under `go test ./internal/auth/`. To fuzz:
//
//	go test -run='^$' -fuzz=FuzzPatientTokenVerify -fuzztime=10s ./internal/auth/
//	go test -run='^$' -fuzz=FuzzProviderTokenVerify -fuzztime=10s ./internal/auth/
//
// The keys are fixed files in testdata, and the clock is fixed at t0, so
// every fuzz worker agrees on which seeds are valid.

func FuzzPatientTokenVerify(f *testing.F) {
	w := newWorld(f)
	valid, _, err := w.patient.Issue("exam_1", "clinic_glow")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	for _, a := range attacks(f, w) {
		f.Add(a.token)
	}
	f.Fuzz(func(t *testing.T, token string) {
		p, err := w.patient.Verify(token)
		if err != nil {
			if !errors.Is(err, ErrUnauthenticated) {
				t.Fatalf("error does not wrap ErrUnauthenticated: %v", err)
			}
			if p != (Principal{}) {
				t.Fatalf("principal with error: %+v", p)
			}
			return
		}
		// Accepted: it must be HS256 and carry an HMAC under the test secret,
		// checked here without the code under test.
		parts := strings.Split(token, ".")
		if len(parts) != 3 {
			t.Fatalf("accepted a token of %d segments", len(parts))
		}
		if alg := headerAlg(t, parts[0]); alg != "HS256" {
			t.Fatalf("accepted alg %q", alg)
		}
		sig, err := base64.RawURLEncoding.DecodeString(parts[2])
		if err != nil {
			t.Fatalf("accepted an undecodable signature: %v", err)
		}
		mac := hmac.New(sha256.New, testPatientSecret)
		mac.Write([]byte(parts[0] + "." + parts[1]))
		if !hmac.Equal(sig, mac.Sum(nil)) {
			t.Fatalf("accepted a token not signed with the test secret: %q", token)
		}
		if p.Role != RolePatient || !validID(p.ExamID) || !validID(p.ClinicID) {
			t.Fatalf("bad principal %+v", p)
		}
	})
}

func FuzzProviderTokenVerify(f *testing.F) {
	w := newWorld(f)
	vc := providerClaimsAt(t0)
	f.Add(sign(f, jwt.SigningMethodRS256, w.keys.rsa, rsaKid, vc))
	f.Add(sign(f, jwt.SigningMethodES256, w.keys.ec, ecKid, vc))
	f.Add(sign(f, jwt.SigningMethodRS256, w.keys.rsa, rsaKid, with(vc, map[string]any{"aud": nil, "client_id": testAudience, "token_use": "access"})))
	for _, a := range attacks(f, w) {
		f.Add(a.token)
	}
	f.Fuzz(func(t *testing.T, token string) {
		p, err := w.provider.Verify(context.Background(), token)
		if err != nil {
			if !errors.Is(err, ErrUnauthenticated) {
				t.Fatalf("error does not wrap ErrUnauthenticated: %v", err)
			}
			if p != (Principal{}) {
				t.Fatalf("principal with error: %+v", p)
			}
			return
		}
		// Accepted: the header must name a trusted key of the alg's type and
		// the signature must verify with it, checked without the code under
		// test.
		parts := strings.Split(token, ".")
		if len(parts) != 3 {
			t.Fatalf("accepted a token of %d segments", len(parts))
		}
		var h map[string]any // as jwt decodes it: exact member names
		decodeJSONSegment(t, parts[0], &h)
		alg, _ := h["alg"].(string)
		kid, _ := h["kid"].(string)
		sig, err := base64.RawURLEncoding.DecodeString(parts[2])
		if err != nil {
			t.Fatalf("accepted an undecodable signature: %v", err)
		}
		digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
		switch {
		case alg == "RS256" && kid == rsaKid:
			if err := rsa.VerifyPKCS1v15(&w.keys.rsa.PublicKey, crypto.SHA256, digest[:], sig); err != nil {
				t.Fatalf("accepted a bad RS256 signature: %q", token)
			}
		case alg == "ES256" && kid == ecKid:
			if len(sig) != 64 {
				t.Fatalf("accepted an ES256 signature of %d bytes", len(sig))
			}
			r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
			if !ecdsa.Verify(&w.keys.ec.PublicKey, digest[:], r, s) {
				t.Fatalf("accepted a bad ES256 signature: %q", token)
			}
		default:
			t.Fatalf("accepted alg %q with kid %q", alg, kid)
		}
		if p.Role != RoleProvider || !validID(p.ProviderID) {
			t.Fatalf("bad principal %+v", p)
		}
	})
}

func headerAlg(t *testing.T, seg string) string {
	t.Helper()
	var h map[string]any
	decodeJSONSegment(t, seg, &h)
	alg, _ := h["alg"].(string)
	return alg
}

func decodeJSONSegment(t *testing.T, seg string, v any) {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatalf("accepted an undecodable segment: %v", err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("accepted a segment that is not JSON: %v", err)
	}
}
