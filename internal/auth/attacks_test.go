package auth

import (
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// attack is a token and the error each verifier must answer with. Every
// want wraps ErrUnauthenticated.
type attack struct {
	name         string
	token        string
	wantPatient  error
	wantProvider error
}

// attacks builds the attack tokens against the world's keys at t0. They are
// also the fuzz seed corpus.
func attacks(tb testing.TB, w *world) []attack {
	tb.Helper()
	k := w.keys
	now := w.clock.Now()
	pc := patientClaimsAt(now)
	vc := providerClaimsAt(now)
	hs := jwt.SigningMethodHS256
	rs := jwt.SigningMethodRS256
	es := jwt.SigningMethodES256

	validPatient := sign(tb, hs, testPatientSecret, "", pc)
	validRS := sign(tb, rs, k.rsa, rsaKid, vc)
	validES := sign(tb, es, k.ec, ecKid, vc)

	noneHeader := map[string]any{"alg": "none", "typ": "JWT"}
	inv, exp, nyv, unk, miss := ErrInvalidToken, ErrExpiredToken, ErrTokenNotYetValid, ErrUnknownKey, ErrMissingCredential

	return []attack{
		// Nothing or garbage.
		{"empty", "", miss, miss},
		{"garbage", "garbage", inv, inv},
		{"three dots of garbage", "a.b.c", inv, inv},
		{"four segments", validRS + ".x", inv, inv},
		{"two segments", strings.Join(strings.Split(validRS, ".")[:2], "."), inv, inv},
		{"header only JSON", `{"alg":"RS256"}`, inv, inv},
		{"too long", validRS[:strings.LastIndex(validRS, ".")] + "." + strings.Repeat("A", MaxTokenLen), inv, inv},
		{"padded signature", validRS + "==", inv, inv},
		{"bearer prefix left in", "Bearer " + validRS, inv, inv},

		// alg none, in the spellings that have fooled libraries.
		{"alg none patient claims", rawToken(tb, noneHeader, pc, nil), inv, inv},
		{"alg none provider claims", rawToken(tb, map[string]any{"alg": "none", "kid": rsaKid}, vc, nil), inv, inv},
		{"alg None", rawToken(tb, map[string]any{"alg": "None", "kid": rsaKid}, vc, nil), inv, inv},
		{"alg NONE", rawToken(tb, map[string]any{"alg": "NONE"}, pc, nil), inv, inv},
		{"alg none with library", sign(tb, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, rsaKid, vc), inv, inv},
		{"no alg", rawToken(tb, map[string]any{"kid": rsaKid}, vc, []byte("x")), inv, inv},
		{"valid RS256 token relabelled none", replaceHeader(tb, validRS, map[string]any{"alg": "none"}), inv, inv},

		// Algorithm confusion.
		{"HS256 keyed with RSA public key PEM", sign(tb, hs, publicPEM(tb, &k.rsa.PublicKey), rsaKid, vc), inv, inv},
		{"HS256 keyed with EC public key PEM", sign(tb, hs, publicPEM(tb, &k.ec.PublicKey), ecKid, vc), inv, inv},
		{"HS256 keyed with RSA modulus", sign(tb, hs, k.rsa.PublicKey.N.Bytes(), rsaKid, vc), inv, inv},
		{"patient secret as provider token", sign(tb, hs, testPatientSecret, rsaKid, vc), inv, inv},
		{"RS256 under the EC kid", sign(tb, rs, k.rsaAttacker, ecKid, vc), inv, inv},
		{"ES256 under the RSA kid", sign(tb, es, k.ecAttacker, rsaKid, vc), inv, inv},
		{"RS256 token relabelled ES256", replaceHeader(tb, validRS, map[string]any{"alg": "ES256"}), inv, inv},
		{"ES256 token relabelled RS256", replaceHeader(tb, validES, map[string]any{"alg": "RS256"}), inv, inv},
		{"ES256 token relabelled HS256", replaceHeader(tb, validES, map[string]any{"alg": "HS256"}), inv, inv},
		{"PS256 by the trusted key", sign(tb, jwt.SigningMethodPS256, k.rsa, rsaKid, vc), inv, inv},
		{"RS512 by the trusted key", sign(tb, jwt.SigningMethodRS512, k.rsa, rsaKid, vc), inv, inv},
		{"patient claims RS256 by the trusted key", sign(tb, rs, k.rsa, rsaKid, pc), inv, inv},
		{"patient claims ES256 by the trusted key", sign(tb, es, k.ec, ecKid, pc), inv, inv},
		{"HS512 by the patient secret", sign(tb, jwt.SigningMethodHS512, testPatientSecret, "", pc), inv, inv},

		// Bad signatures and tampering.
		{"patient signature byte flipped", flipSignatureByte(tb, validPatient), inv, inv},
		{"RS256 signature byte flipped", flipSignatureByte(tb, validRS), inv, inv},
		{"ES256 signature byte flipped", flipSignatureByte(tb, validES), inv, inv},
		{"patient exam id swapped", replaceClaims(tb, validPatient, map[string]any{"sub": "exam_2"}), inv, inv},
		{"provider sub swapped", replaceClaims(tb, validRS, map[string]any{"sub": "someone-else"}), inv, inv},
		{"provider exp extended", replaceClaims(tb, validES, map[string]any{"exp": now.Add(100 * time.Hour).Unix()}), inv, inv},
		{"patient signed with another secret", sign(tb, hs, []byte("an attacker's secret of 32+ bytes.."), "", pc), inv, inv},
		{"signed by an attacker RSA key under the trusted kid", sign(tb, rs, k.rsaAttacker, rsaKid, vc), inv, inv},
		{"signed by an attacker EC key under the trusted kid", sign(tb, es, k.ecAttacker, ecKid, vc), inv, inv},
		{"empty signature", strings.Join(append(strings.Split(validRS, ".")[:2], ""), "."), inv, inv},

		// Time.
		{"patient expired", sign(tb, hs, testPatientSecret, "", with(pc, map[string]any{"exp": now.Add(-time.Minute).Unix()})), exp, inv},
		{"provider expired", sign(tb, rs, k.rsa, rsaKid, with(vc, map[string]any{"exp": now.Add(-time.Minute).Unix()})), inv, exp},
		{"patient not yet valid", sign(tb, hs, testPatientSecret, "", with(pc, map[string]any{"nbf": now.Add(time.Minute).Unix()})), nyv, inv},
		{"provider not yet valid", sign(tb, es, k.ec, ecKid, with(vc, map[string]any{"nbf": now.Add(time.Minute).Unix()})), inv, nyv},
		{"provider issued in the future", sign(tb, es, k.ec, ecKid, with(vc, map[string]any{"iat": now.Add(time.Hour).Unix()})), inv, nyv},
		{"patient missing exp", sign(tb, hs, testPatientSecret, "", with(pc, map[string]any{"exp": nil})), inv, inv},
		{"provider missing exp", sign(tb, rs, k.rsa, rsaKid, with(vc, map[string]any{"exp": nil})), inv, inv},
		{"patient missing nbf", sign(tb, hs, testPatientSecret, "", with(pc, map[string]any{"nbf": nil})), inv, inv},
		{"patient missing iat", sign(tb, hs, testPatientSecret, "", with(pc, map[string]any{"iat": nil})), inv, inv},
		{"patient exp as string", sign(tb, hs, testPatientSecret, "", with(pc, map[string]any{"exp": "tomorrow"})), inv, inv},
		{"expired and wrong audience", sign(tb, rs, k.rsa, rsaKid, with(vc, map[string]any{"exp": now.Add(-time.Hour).Unix(), "aud": "other"})), inv, inv},

		// Audience and issuer.
		{"patient wrong audience", sign(tb, hs, testPatientSecret, "", with(pc, map[string]any{"aud": "goodfaith-provider"})), inv, inv},
		{"patient no audience", sign(tb, hs, testPatientSecret, "", with(pc, map[string]any{"aud": nil})), inv, inv},
		{"patient wrong issuer", sign(tb, hs, testPatientSecret, "", with(pc, map[string]any{"iss": "https://evil.test"})), inv, inv},
		{"provider wrong audience", sign(tb, rs, k.rsa, rsaKid, with(vc, map[string]any{"aud": "client-999"})), inv, inv},
		{"provider wrong audience, right client_id", sign(tb, rs, k.rsa, rsaKid, with(vc, map[string]any{"aud": "client-999", "client_id": testAudience})), inv, inv},
		{"provider no audience, no client_id", sign(tb, rs, k.rsa, rsaKid, with(vc, map[string]any{"aud": nil})), inv, inv},
		{"provider access token, wrong client_id", sign(tb, rs, k.rsa, rsaKid, with(vc, map[string]any{"aud": nil, "client_id": "client-999", "token_use": "access"})), inv, inv},
		{"provider wrong issuer", sign(tb, es, k.ec, ecKid, with(vc, map[string]any{"iss": "https://evil.test"})), inv, inv},
		{"provider no issuer", sign(tb, es, k.ec, ecKid, with(vc, map[string]any{"iss": nil})), inv, inv},
		{"provider refresh token_use", sign(tb, es, k.ec, ecKid, with(vc, map[string]any{"token_use": "refresh"})), inv, inv},

		// Keys.
		{"unknown kid", sign(tb, rs, k.rsaAttacker, "rsa-2", vc), inv, unk},
		{"missing kid", sign(tb, rs, k.rsa, "", vc), inv, inv},
		{"kid not a string", replaceHeader(tb, validRS, map[string]any{"kid": 1}), inv, inv},
		{"crit header", signHeader(tb, es, k.ec, map[string]any{"kid": ecKid, "crit": []string{"exp"}}, vc), inv, inv},

		// Cross-presentation.
		{"patient token to provider verifier", validPatient, nil, inv},
		{"provider RS256 token to patient verifier", validRS, inv, nil},
		{"provider ES256 token to patient verifier", validES, inv, nil},
		{"patient token with extra claim", sign(tb, hs, testPatientSecret, "", with(pc, map[string]any{"role": "provider"})), inv, inv},
		{"patient token without clinic", sign(tb, hs, testPatientSecret, "", with(pc, map[string]any{"clinic": nil})), inv, inv},
		{"patient token without sub", sign(tb, hs, testPatientSecret, "", with(pc, map[string]any{"sub": nil})), inv, inv},
		{"provider empty provider id claim", sign(tb, es, k.ec, ecKid, with(vc, map[string]any{ProviderIDClaim: ""})), inv, inv},
		{"provider numeric provider id claim", sign(tb, es, k.ec, ecKid, with(vc, map[string]any{ProviderIDClaim: 7})), inv, inv},
		{"provider sub with spaces", sign(tb, es, k.ec, ecKid, with(vc, map[string]any{"sub": "a b"})), inv, inv},
	}
}
