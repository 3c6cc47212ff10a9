package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/jwk"
)

// sentinels are the specific errors a token failure can carry.
var sentinels = []error{ErrMissingCredential, ErrMalformedCredential, ErrInvalidToken, ErrExpiredToken, ErrTokenNotYetValid, ErrUnknownKey, ErrInvalidAPIKey}

// checkErr fails unless err is exactly the want sentinel (nil: accepted),
// wraps ErrUnauthenticated, and p is the zero Principal on failure.
func checkErr(t *testing.T, who string, p Principal, err, want error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Errorf("%s rejected a valid token: %v", who, err)
		}
		return
	}
	if err == nil {
		t.Errorf("%s accepted the token: %+v", who, p)
		return
	}
	if !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("%s: error %v does not wrap ErrUnauthenticated", who, err)
	}
	if !errors.Is(err, want) {
		t.Errorf("%s: error %v, want %v", who, err, want)
	}
	for _, s := range sentinels {
		if s != want && errors.Is(err, s) {
			t.Errorf("%s: error %v also matches %v", who, err, s)
		}
	}
	if p != (Principal{}) {
		t.Errorf("%s returned a principal with an error: %+v", who, p)
	}
}

func TestAttacksRejected(t *testing.T) {
	w := newWorld(t)
	for _, a := range attacks(t, w) {
		t.Run(a.name, func(t *testing.T) {
			p, err := w.patient.Verify(a.token)
			checkErr(t, "patient verifier", p, err, a.wantPatient)
			p, err = w.provider.Verify(context.Background(), a.token)
			checkErr(t, "provider verifier", p, err, a.wantProvider)
		})
	}
}

func TestPatientIssueVerify(t *testing.T) {
	w := newWorld(t)
	tok, exp, err := w.patient.Issue("exam_01HZX", "clinic_glow")
	if err != nil {
		t.Fatal(err)
	}
	if want := t0.Add(24 * time.Hour); !exp.Equal(want) {
		t.Errorf("expiry = %v, want %v", exp, want)
	}
	p, err := w.patient.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Principal{Role: RolePatient, ExamID: "exam_01HZX", ClinicID: "clinic_glow"}); p != want {
		t.Errorf("principal = %+v, want %+v", p, want)
	}

	// The token carries exactly the documented header and claims.
	parts := strings.Split(tok, ".")
	var header, claims map[string]any
	decodeSegment(t, parts[0], &header)
	decodeSegment(t, parts[1], &claims)
	if header["alg"] != "HS256" || len(header) != 2 || header["typ"] != "JWT" {
		t.Errorf("header = %v", header)
	}
	wantClaims := map[string]any{
		"iss": testPatientIssuer, "sub": "exam_01HZX", "clinic": "clinic_glow",
		"aud": []any{PatientAudience},
		"iat": float64(t0.Unix()), "nbf": float64(t0.Unix()), "exp": float64(t0.Add(24 * time.Hour).Unix()),
	}
	if a, b := mustJSON(t, claims), mustJSON(t, wantClaims); a != b {
		t.Errorf("claims = %s\nwant     %s", a, b)
	}
}

func TestPatientTokenTimeBounds(t *testing.T) {
	w := newWorld(t)
	tok, _, err := w.patient.Issue("exam_1", "clinic_1")
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		at   time.Time
		want error
	}{
		{t0.Add(-Leeway), nil}, // skew tolerated
		{t0.Add(-Leeway - time.Second), ErrTokenNotYetValid},
		{t0.Add(24*time.Hour - time.Second), nil},
		{t0.Add(24*time.Hour + Leeway - time.Second), nil},
		{t0.Add(24*time.Hour + Leeway), ErrExpiredToken},
		{t0.Add(365 * 24 * time.Hour), ErrExpiredToken},
	}
	for _, s := range steps {
		w.clock.Set(s.at)
		p, err := w.patient.Verify(tok)
		checkErr(t, "at "+s.at.Format(time.RFC3339), p, err, s.want)
	}
}

func TestPatientTokensCustomTTL(t *testing.T) {
	clk := clock.NewFake(t0)
	pt, err := NewPatientTokens(testPatientSecret, "iss", 15*time.Minute, clk)
	if err != nil {
		t.Fatal(err)
	}
	if pt.TTL() != 15*time.Minute {
		t.Errorf("TTL = %v", pt.TTL())
	}
	tok, exp, err := pt.Issue("e", "c")
	if err != nil {
		t.Fatal(err)
	}
	if !exp.Equal(t0.Add(15 * time.Minute)) {
		t.Errorf("exp = %v", exp)
	}
	clk.Advance(16 * time.Minute)
	if _, err := pt.Verify(tok); !errors.Is(err, ErrExpiredToken) {
		t.Errorf("after TTL: %v", err)
	}
}

func TestPatientTokensIssuerAndSecretSeparate(t *testing.T) {
	w := newWorld(t)
	tok, _, err := w.patient.Issue("exam_1", "clinic_1")
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewPatientTokens(testPatientSecret, "https://other.test", 0, w.clock)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Verify(tok); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("other issuer: %v", err)
	}
	otherSecret, err := NewPatientTokens([]byte(strings.Repeat("k", 32)), testPatientIssuer, 0, w.clock)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := otherSecret.Verify(tok); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("other secret: %v", err)
	}
}

func TestPatientSecretIsCopied(t *testing.T) {
	secret := []byte(strings.Repeat("s", 32))
	pt, err := NewPatientTokens(secret, "iss", 0, clock.NewFake(t0))
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := pt.Issue("e", "c")
	if err != nil {
		t.Fatal(err)
	}
	secret[0] = 'x'
	if _, err := pt.Verify(tok); err != nil {
		t.Fatalf("changing the caller's slice changed the key: %v", err)
	}
}

func TestNewPatientTokensRejects(t *testing.T) {
	cases := []struct {
		name   string
		secret []byte
		issuer string
		ttl    time.Duration
	}{
		{"nil secret", nil, "iss", 0},
		{"31-byte secret", make([]byte, 31), "iss", 0},
		{"empty issuer", testPatientSecret, "", 0},
		{"negative ttl", testPatientSecret, "iss", -time.Hour},
		{"tiny ttl", testPatientSecret, "iss", time.Second},
	}
	for _, c := range cases {
		if _, err := NewPatientTokens(c.secret, c.issuer, c.ttl, nil); err == nil {
			t.Errorf("%s: accepted", c.name)
		}
	}
	pt, err := NewPatientTokens(make([]byte, 32), "iss", 0, nil)
	if err != nil {
		t.Fatalf("32-byte secret refused: %v", err)
	}
	if pt.TTL() != DefaultPatientTokenTTL {
		t.Errorf("default TTL = %v", pt.TTL())
	}
}

func TestPatientIssueRejectsBadIDs(t *testing.T) {
	w := newWorld(t)
	for _, ids := range [][2]string{
		{"", "c"}, {"e", ""}, {"a b", "c"}, {"e", "c\n"}, {strings.Repeat("e", MaxIDLen+1), "c"}, {"e", "\xff"},
	} {
		if _, _, err := w.patient.Issue(ids[0], ids[1]); err == nil {
			t.Errorf("Issue(%q, %q) accepted", ids[0], ids[1])
		}
	}
	if _, _, err := w.patient.Issue(strings.Repeat("e", MaxIDLen), "c"); err != nil {
		t.Errorf("max-length id refused: %v", err)
	}
}

func TestProviderAccepts(t *testing.T) {
	w := newWorld(t)
	k := w.keys
	vc := providerClaimsAt(t0)
	sub := vc["sub"].(string)
	cases := []struct {
		name   string
		token  string
		wantID string
	}{
		{"RS256 ID token", sign(t, jwt.SigningMethodRS256, k.rsa, rsaKid, vc), sub},
		{"ES256 ID token", sign(t, jwt.SigningMethodES256, k.ec, ecKid, vc), sub},
		{"provider id claim wins over sub", sign(t, jwt.SigningMethodRS256, k.rsa, rsaKid, with(vc, map[string]any{ProviderIDClaim: "prov_tx_md"})), "prov_tx_md"},
		{"Cognito access token: client_id, no aud", sign(t, jwt.SigningMethodRS256, k.rsa, rsaKid, with(vc, map[string]any{"aud": nil, "client_id": testAudience, "token_use": "access", "scope": "aws.cognito.signin.user.admin"})), sub},
		{"aud list containing ours", sign(t, jwt.SigningMethodES256, k.ec, ecKid, with(vc, map[string]any{"aud": []string{"other", testAudience}})), sub},
		{"no token_use (non-Cognito IdP)", sign(t, jwt.SigningMethodES256, k.ec, ecKid, with(vc, map[string]any{"token_use": nil})), sub},
		{"no iat, with nbf", sign(t, jwt.SigningMethodES256, k.ec, ecKid, with(vc, map[string]any{"iat": nil, "nbf": t0.Unix()})), sub},
		{"expired within leeway", sign(t, jwt.SigningMethodES256, k.ec, ecKid, with(vc, map[string]any{"exp": t0.Add(-Leeway + time.Second).Unix()})), sub},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := w.provider.Verify(context.Background(), c.token)
			if err != nil {
				t.Fatal(err)
			}
			if want := (Principal{Role: RoleProvider, ProviderID: c.wantID}); p != want {
				t.Errorf("principal = %+v, want %+v", p, want)
			}
		})
	}
}

func TestProviderKeySourceFailure(t *testing.T) {
	w := newWorld(t)
	tok := sign(t, jwt.SigningMethodRS256, w.keys.rsa, rsaKid, providerClaimsAt(t0))
	for name, src := range map[string]KeySource{
		"unavailable": failingKeys{ErrKeysUnavailable},
		"other error": failingKeys{errors.New("disk on fire")},
	} {
		v := *w.provider
		v.Keys = src
		_, err := v.Verify(context.Background(), tok)
		if !errors.Is(err, ErrKeysUnavailable) || errors.Is(err, ErrUnauthenticated) {
			t.Errorf("%s: %v; want ErrKeysUnavailable, not ErrUnauthenticated", name, err)
		}
	}
	v := *w.provider
	v.Keys = failingKeys{ErrUnknownKey}
	if _, err := v.Verify(context.Background(), tok); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("unknown key source: %v", err)
	}
}

func TestProviderVerifierMisconfigured(t *testing.T) {
	w := newWorld(t)
	tok := sign(t, jwt.SigningMethodRS256, w.keys.rsa, rsaKid, providerClaimsAt(t0))
	for name, v := range map[string]ProviderVerifier{
		"no issuer":   {Audience: "a", Keys: w.provider.Keys},
		"no audience": {Issuer: "i", Keys: w.provider.Keys},
		"no keys":     {Issuer: "i", Audience: "a"},
	} {
		_, err := v.Verify(context.Background(), tok)
		if err == nil || errors.Is(err, ErrUnauthenticated) {
			t.Errorf("%s: %v; want a configuration error", name, err)
		}
	}
}

func TestProviderVerifierDefaultClock(t *testing.T) {
	k := loadTestKeys(t)
	static, err := NewStaticKeys(trustedSet(k))
	if err != nil {
		t.Fatal(err)
	}
	v := &ProviderVerifier{Issuer: testIDPIssuer, Audience: testAudience, Keys: static}
	tok := sign(t, jwt.SigningMethodES256, k.ec, ecKid, providerClaimsAt(time.Now()))
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	old := sign(t, jwt.SigningMethodES256, k.ec, ecKid, providerClaimsAt(t0)) // 2030 is in the future
	if _, err := v.Verify(context.Background(), old); !errors.Is(err, ErrTokenNotYetValid) {
		t.Fatalf("token from 2030: %v", err)
	}
}

func TestNewStaticKeys(t *testing.T) {
	k := loadTestKeys(t)
	good := trustedSet(k)
	s, err := NewStaticKeys(good)
	if err != nil {
		t.Fatal(err)
	}
	if pub, err := s.Key(context.Background(), rsaKid); err != nil || !k.rsa.PublicKey.Equal(pub) {
		t.Errorf("Key(rsa) = %v, %v", pub, err)
	}
	if _, err := s.Key(context.Background(), "nope"); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("Key(nope) = %v", err)
	}
	if _, err := s.Key(context.Background(), ""); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("Key(\"\") = %v", err)
	}

	noKid := good
	noKid.Keys = append(noKid.Keys[:0:0], good.Keys...)
	noKid.Keys[0].Kid = ""
	dup := good
	dup.Keys = append(good.Keys[:0:0], good.Keys[0], good.Keys[0])
	bad := good
	bad.Keys = append(good.Keys[:0:0], good.Keys...)
	bad.Keys[1].X = bad.Keys[1].Y
	for name, set := range map[string]jwk.Set{"no kid": noKid, "duplicate kid": dup, "off-curve key": bad} {
		if _, err := NewStaticKeys(set); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	empty, err := NewStaticKeys(jwk.Set{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := empty.Key(context.Background(), rsaKid); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("empty set: %v", err)
	}
}

func decodeSegment(t *testing.T, seg string, v any) {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatal(err)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestErrorsDoNotQuoteTokenContents(t *testing.T) {
	w := newWorld(t)
	const marker = "SECRET-PHI-MARKER"
	pc := patientClaimsAt(t0)
	vc := providerClaimsAt(t0)
	tokens := []string{
		sign(t, jwt.SigningMethodHS256, testPatientSecret, "", with(pc, map[string]any{marker: 1})),
		sign(t, jwt.SigningMethodHS256, testPatientSecret, "", with(pc, map[string]any{"exp": marker})),
		sign(t, jwt.SigningMethodRS256, w.keys.rsa, rsaKid, with(vc, map[string]any{ProviderIDClaim: []string{marker}})),
		sign(t, jwt.SigningMethodRS256, w.keys.rsa, marker, vc),
		rawToken(t, map[string]any{"alg": marker}, vc, nil),
		marker + "." + marker + "." + marker,
	}
	for _, tok := range tokens {
		_, err1 := w.patient.Verify(tok)
		_, err2 := w.provider.Verify(context.Background(), tok)
		for _, err := range []error{err1, err2} {
			if err == nil || strings.Contains(err.Error(), marker) {
				t.Errorf("error quotes the token: %v", err)
			}
		}
	}
}
