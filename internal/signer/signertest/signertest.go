// Package signertest is the conformance suite of the signing port: every
// adapter (the local key file, AWS KMS) must pass it, so PSOs verify the
// same way whichever key signed them.
package signertest

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"math/big"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/goodfaith/goodfaith/internal/jwk"
	"github.com/goodfaith/goodfaith/internal/signer"
)

// Run checks s. It signs a few digests and JWSs; s must be ready to sign.
func Run(t *testing.T, s signer.Signer) {
	t.Helper()
	ctx := context.Background()

	t.Run("KeyIDIsTheThumbprint", func(t *testing.T) {
		thumb, err := jwk.Thumbprint(s.Public())
		if err != nil {
			t.Fatal(err)
		}
		if s.KeyID() == "" || s.KeyID() != thumb {
			t.Fatalf("KeyID %q, want the RFC 7638 thumbprint %q", s.KeyID(), thumb)
		}
	})

	t.Run("SignIsRawP1363", func(t *testing.T) {
		for _, msg := range []string{"pso", "another pso", ""} {
			digest := sha256.Sum256([]byte(msg))
			sig, err := s.Sign(ctx, digest[:])
			if err != nil {
				t.Fatal(err)
			}
			if len(sig) != 64 {
				t.Fatalf("signature is %d bytes, want 64 (r||s)", len(sig))
			}
			r, sv := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
			if !ecdsa.Verify(s.Public(), digest[:], r, sv) {
				t.Fatalf("signature of %q does not verify under Public()", msg)
			}
			other := sha256.Sum256([]byte(msg + "!"))
			if ecdsa.Verify(s.Public(), other[:], r, sv) {
				t.Fatal("a signature verified for another digest")
			}
		}
	})

	t.Run("JWSVerifiesWithTheJWKS", func(t *testing.T) {
		jws, err := signer.JWS(ctx, s, jwt.MapClaims{"iss": "goodfaith", "n": 1})
		if err != nil {
			t.Fatal(err)
		}
		set := signer.Keyring{Current: s}.JWKS()
		tok, err := jwt.Parse(jws, func(tok *jwt.Token) (any, error) {
			kid, _ := tok.Header["kid"].(string)
			k, ok := set.Lookup(kid)
			if !ok {
				t.Fatalf("kid %q not in the JWKS", kid)
			}
			return k.PublicKey()
		}, jwt.WithValidMethods([]string{"ES256"}))
		if err != nil || tok.Method != jwt.SigningMethodES256 {
			t.Fatalf("the stock ES256 refused the JWS: %v", err)
		}
		if jwt.GetSigningMethod("ES256") != jwt.SigningMethodES256 {
			t.Fatal("signing hijacked the registered ES256 method")
		}
	})

	t.Run("ConcurrentSigns", func(t *testing.T) {
		digest := sha256.Sum256([]byte("concurrent"))
		errs := make(chan error, 8)
		for range 8 {
			go func() {
				sig, err := s.Sign(ctx, digest[:])
				if err == nil && !ecdsa.Verify(s.Public(), digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
					err = errBad
				}
				errs <- err
			}()
		}
		for range 8 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
	})
}

type badSig struct{}

func (badSig) Error() string { return "a concurrent signature does not verify" }

var errBad error = badSig{}
