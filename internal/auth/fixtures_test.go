package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/jwk"
)

// Fixed values of the test world.
var t0 = time.Date(2030, 1, 15, 12, 0, 0, 0, time.UTC)

const (
	testPatientIssuer = "https://api.goodfaith.test"
	testIDPIssuer     = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TEST"
	testAudience      = "client-123"
	rsaKid            = "rsa-1"
	ecKid             = "ec-1"
)

var testPatientSecret = []byte("test-only patient secret, 32+ bytes long!")

// testKeys are the fixed keys of testdata, loaded once.
type testKeys struct {
	rsa, rsaAttacker *rsa.PrivateKey
	ec, ecAttacker   *ecdsa.PrivateKey
}

var (
	keysOnce sync.Once
	keys     testKeys
	keysErr  error
)

func loadTestKeys(tb testing.TB) testKeys {
	tb.Helper()
	keysOnce.Do(func() {
		load := func(name string) crypto.PrivateKey {
			if keysErr != nil {
				return nil
			}
			raw, err := os.ReadFile("testdata/" + name)
			if err != nil {
				keysErr = err
				return nil
			}
			block, _ := pem.Decode(raw)
			if block == nil {
				keysErr = errors.New(name + ": no PEM")
				return nil
			}
			k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				keysErr = err
			}
			return k
		}
		r, _ := load("rsa-test-key.pem").(*rsa.PrivateKey)
		ra, _ := load("rsa-attacker-key.pem").(*rsa.PrivateKey)
		e, _ := load("ec-test-key.pem").(*ecdsa.PrivateKey)
		ea, _ := load("ec-attacker-key.pem").(*ecdsa.PrivateKey)
		if keysErr == nil && (r == nil || ra == nil || e == nil || ea == nil) {
			keysErr = errors.New("testdata keys of unexpected types")
		}
		keys = testKeys{rsa: r, rsaAttacker: ra, ec: e, ecAttacker: ea}
	})
	if keysErr != nil {
		tb.Fatal(keysErr)
	}
	return keys
}

// trustedSet is the JWKS the tests' identity provider publishes.
func trustedSet(k testKeys) jwk.Set {
	return jwk.Set{Keys: []jwk.Key{
		jwk.FromRSA(&k.rsa.PublicKey, rsaKid),
		jwk.FromECDSA(&k.ec.PublicKey, ecKid),
	}}
}

// world is everything a test needs to mint and verify tokens at t0.
type world struct {
	keys     testKeys
	clock    *clock.Fake
	patient  *PatientTokens
	provider *ProviderVerifier
}

func newWorld(tb testing.TB) *world {
	tb.Helper()
	k := loadTestKeys(tb)
	clk := clock.NewFake(t0)
	pt, err := NewPatientTokens(testPatientSecret, testPatientIssuer, 0, clk)
	if err != nil {
		tb.Fatal(err)
	}
	static, err := NewStaticKeys(trustedSet(k))
	if err != nil {
		tb.Fatal(err)
	}
	return &world{
		keys:     k,
		clock:    clk,
		patient:  pt,
		provider: &ProviderVerifier{Issuer: testIDPIssuer, Audience: testAudience, Keys: static, Clock: clk},
	}
}

// providerClaimsAt are the claims of a valid Cognito-style ID token issued
// at now.
func providerClaimsAt(now time.Time) jwt.MapClaims {
	return jwt.MapClaims{
		"iss":       testIDPIssuer,
		"aud":       testAudience,
		"sub":       "5f1c0c1e-7f6b-4d52-9d5e-2b1a3c4d5e6f",
		"token_use": "id",
		"iat":       now.Unix(),
		"auth_time": now.Unix(),
		"exp":       now.Add(time.Hour).Unix(),
		"email":     "dana@example.test",
	}
}

// patientClaimsAt are the claims of a valid patient token issued at now.
func patientClaimsAt(now time.Time) jwt.MapClaims {
	return jwt.MapClaims{
		"iss":    testPatientIssuer,
		"sub":    "exam_1",
		"aud":    []string{PatientAudience},
		"clinic": "clinic_glow",
		"iat":    now.Unix(),
		"nbf":    now.Unix(),
		"exp":    now.Add(24 * time.Hour).Unix(),
	}
}

// with returns a copy of c with set applied; a nil value deletes the claim.
func with(c jwt.MapClaims, set map[string]any) jwt.MapClaims {
	out := jwt.MapClaims{}
	for k, v := range c {
		out[k] = v
	}
	for k, v := range set {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// sign signs claims with method and key, putting kid in the header unless
// it is empty.
func sign(tb testing.TB, method jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	tb.Helper()
	h := map[string]any{}
	if kid != "" {
		h["kid"] = kid
	}
	return signHeader(tb, method, key, h, claims)
}

// signHeader signs claims with method and key, adding header's members to
// the header alg and typ the library writes.
func signHeader(tb testing.TB, method jwt.SigningMethod, key any, header map[string]any, claims jwt.MapClaims) string {
	tb.Helper()
	t := jwt.NewWithClaims(method, claims)
	for k, v := range header {
		t.Header[k] = v
	}
	s, err := t.SignedString(key)
	if err != nil {
		tb.Fatalf("sign: %v", err)
	}
	return s
}

// rawToken assembles a token from a header and claims as JSON objects and a
// raw signature, to build tokens no library would.
func rawToken(tb testing.TB, header map[string]any, claims jwt.MapClaims, sig []byte) string {
	tb.Helper()
	h, err := json.Marshal(header)
	if err != nil {
		tb.Fatal(err)
	}
	c, err := json.Marshal(claims)
	if err != nil {
		tb.Fatal(err)
	}
	e := base64.RawURLEncoding.EncodeToString
	return e(h) + "." + e(c) + "." + e(sig)
}

// flipSignatureByte changes one byte in the middle of the signature.
func flipSignatureByte(tb testing.TB, token string) string {
	tb.Helper()
	parts := strings.Split(token, ".")
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) == 0 {
		tb.Fatalf("bad signature segment: %v", err)
	}
	sig[len(sig)/2] ^= 0x01
	parts[2] = base64.RawURLEncoding.EncodeToString(sig)
	return strings.Join(parts, ".")
}

// replaceHeader re-encodes a token's header with set applied, keeping the
// claims and signature.
func replaceHeader(tb testing.TB, token string, set map[string]any) string {
	tb.Helper()
	parts := strings.Split(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		tb.Fatal(err)
	}
	h := map[string]any{}
	if err := json.Unmarshal(raw, &h); err != nil {
		tb.Fatal(err)
	}
	for k, v := range set {
		h[k] = v
	}
	out, _ := json.Marshal(h)
	parts[0] = base64.RawURLEncoding.EncodeToString(out)
	return strings.Join(parts, ".")
}

// replaceClaims re-encodes a token's claims with set applied, keeping the
// header and signature.
func replaceClaims(tb testing.TB, token string, set map[string]any) string {
	tb.Helper()
	parts := strings.Split(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		tb.Fatal(err)
	}
	c := jwt.MapClaims{}
	if err := json.Unmarshal(raw, &c); err != nil {
		tb.Fatal(err)
	}
	out, _ := json.Marshal(with(c, set))
	parts[1] = base64.RawURLEncoding.EncodeToString(out)
	return strings.Join(parts, ".")
}

// publicPEM is the PKIX PEM of a public key: the bytes an algorithm
// confusion attack uses as an HMAC secret.
func publicPEM(tb testing.TB, pub any) []byte {
	tb.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		tb.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// failingKeys is a KeySource that always fails with err.
type failingKeys struct{ err error }

func (f failingKeys) Key(context.Context, string) (crypto.PublicKey, error) { return nil, f.err }
