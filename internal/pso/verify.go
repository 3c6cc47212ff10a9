package pso

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/goodfaith/goodfaith/internal/jwk"
)

// Reasons a JWS fails verification. Each tampering the acceptance tests
// name has its own: an altered payload, an altered signature, an altered
// kid (unknown_key) and a swapped JWKS (key_mismatch).
const (
	ReasonMalformed      = "malformed"       // not a compact ES256 JWS of a PSO
	ReasonUnknownKey     = "unknown_key"     // the kid is not in the JWKS
	ReasonKeyMismatch    = "key_mismatch"    // the JWKS key under the kid is not the key the kid names (its thumbprint)
	ReasonPayloadAltered = "payload_altered" // the payload is not the one whose digest was signed
	ReasonBadSignature   = "bad_signature"   // the signature does not verify
	ReasonWrongIssuer    = "wrong_issuer"    // not issued by Goodfaith
	ReasonSchema         = "unknown_schema"  // a document schema this verifier does not know
	ReasonExpired        = "expired"         // past its valid-until date
	ReasonRevoked        = "revoked"         // revoked after issue
)

// Verification is the outcome of checking a JWS.
type Verification struct {
	Valid      bool
	Reason     string
	KeyID      string
	Doc        Document    // set once the signature verified
	Revocation *Revocation // set when Reason is revoked
}

var errUnknownKey = errors.New("pso: unknown key id")

// Verify checks jws against the public keys alone, and its validity on now.
// It does not know about revocations: see Verification.Check.
func Verify(jws string, keys jwk.Set, now time.Time) Verification {
	parts := strings.Split(jws, ".")
	if len(parts) != 3 {
		return Verification{Reason: ReasonMalformed}
	}
	rawHeader, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return Verification{Reason: ReasonMalformed}
	}
	var header struct {
		Alg           string `json:"alg"`
		Kid           string `json:"kid"`
		PayloadSHA256 string `json:"payload_s256"`
	}
	if json.Unmarshal(rawHeader, &header) != nil || header.Alg != "ES256" {
		return Verification{Reason: ReasonMalformed}
	}
	k, ok := keys.Lookup(header.Kid)
	if !ok {
		return Verification{Reason: ReasonUnknownKey, KeyID: header.Kid}
	}
	pub, err := k.PublicKey()
	if err != nil {
		return Verification{Reason: ReasonKeyMismatch, KeyID: header.Kid}
	}
	if thumb, err := jwk.Thumbprint(pub); err != nil || thumb != header.Kid {
		return Verification{Reason: ReasonKeyMismatch, KeyID: header.Kid}
	}
	if header.PayloadSHA256 == "" {
		return Verification{Reason: ReasonMalformed, KeyID: header.Kid}
	}
	if payloadDigest(parts[1]) != header.PayloadSHA256 {
		return Verification{Reason: ReasonPayloadAltered, KeyID: header.Kid}
	}
	var claims Claims
	_, err = jwt.ParseWithClaims(jws, &claims, func(*jwt.Token) (any, error) { return pub, nil },
		jwt.WithValidMethods([]string{"ES256"}), jwt.WithoutClaimsValidation())
	switch {
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return Verification{Reason: ReasonBadSignature, KeyID: header.Kid}
	case err != nil:
		return Verification{Reason: ReasonMalformed, KeyID: header.Kid}
	}
	v := Verification{KeyID: header.Kid, Doc: claims.PSO}
	if claims.Issuer != IssuerName {
		v.Reason = ReasonWrongIssuer
		return v
	}
	if claims.PSO.Schema != Schema || claims.PSO.ID == "" || claims.ID != claims.PSO.ID {
		v.Reason = ReasonSchema
		return v
	}
	until, err := time.Parse(time.DateOnly, claims.PSO.ValidUntil)
	if err != nil {
		v.Reason = ReasonMalformed
		return v
	}
	if now.UTC().Truncate(24 * time.Hour).After(until) {
		v.Reason = ReasonExpired
		return v
	}
	v.Valid = true
	return v
}

// Check applies a revocation to a verification: a revoked order whose
// signature holds fails with ReasonRevoked (before expiry: a revocation is
// the stronger news). rev nil, or a verification that already failed on
// its signature, is returned unchanged.
func (v Verification) Check(rev *Revocation) Verification {
	if rev == nil || v.Doc.ID == "" || rev.PSOID != v.Doc.ID || (!v.Valid && v.Reason != ReasonExpired) {
		return v
	}
	v.Valid, v.Reason, v.Revocation = false, ReasonRevoked, rev
	return v
}
