package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"

	"github.com/golang-jwt/jwt/v5"

	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/jwk"
)

// ProviderIDClaim is the claim that, when present, names the provider; the
// identity provider sets it (in Cognito with a pre-token-generation
// trigger). Without it the provider id is the token's sub.
const ProviderIDClaim = "goodfaith:provider_id"

// ProviderMethods are the only algorithms ProviderVerifier accepts. Cognito
// signs with RS256; the dev issuer with ES256.
var ProviderMethods = []string{"RS256", "ES256"}

// maxKidLen bounds the kid header looked up in a key source.
const maxKidLen = 256

// KeySource finds the public key a provider token names in its kid header.
// Key returns an *rsa.PublicKey or an *ecdsa.PublicKey on P-256; an error
// wrapping ErrUnknownKey when no key has that kid; and an error wrapping
// ErrKeysUnavailable when it cannot tell (for example the JWKS endpoint is
// down and nothing is cached).
type KeySource interface {
	Key(ctx context.Context, kid string) (crypto.PublicKey, error)
}

// ProviderVerifier verifies provider JWTs from the identity provider.
//
// A token is accepted when all of these hold:
//   - its alg is RS256 or ES256, its header has a kid, Keys knows that kid,
//     the key's type matches the alg (RSA for RS256, P-256 for ES256), and
//     the signature verifies; a header with "crit" is refused;
//   - iss equals Issuer;
//   - the audience matches, by this rule: if the token has an aud claim it
//     must contain Audience; if it has none, its client_id claim must equal
//     Audience. Cognito ID tokens carry the app client id in aud, Cognito
//     access tokens carry it in client_id and have no aud. A token with an
//     aud that does not match is refused even if client_id matches;
//   - token_use, when present (Cognito), is "id" or "access";
//   - exp is present and not passed, nbf (if any) has passed and iat (if
//     any) is not in the future, each with Leeway;
//   - the provider id — the goodfaith:provider_id claim when present, else
//     sub — is a well-formed id (see MaxIDLen).
//
// The zero Clock means the system clock. A ProviderVerifier is safe for
// concurrent use if its Keys is; do not change its fields while in use.
type ProviderVerifier struct {
	Issuer   string
	Audience string
	Keys     KeySource
	Clock    clock.Clock
}

// Verify checks a provider token and returns its Principal (RoleProvider,
// ProviderID). Failures of the token wrap ErrUnauthenticated; a key source
// that cannot answer gives an error wrapping ErrKeysUnavailable instead. ctx
// bounds any key fetch.
func (v *ProviderVerifier) Verify(ctx context.Context, token string) (Principal, error) {
	claims := providerClaims{identityClaims: identityClaims{audience: v.Audience}}
	iv := identityVerifier{name: "ProviderVerifier", issuer: v.Issuer, audience: v.Audience, keys: v.Keys, clock: v.Clock}
	if err := iv.verify(ctx, token, &claims); err != nil {
		return Principal{}, err
	}
	return Principal{Role: RoleProvider, ProviderID: claims.providerID()}, nil
}

// keyFitsAlg reports whether key is the right type for alg (RS256 or ES256).
func keyFitsAlg(key crypto.PublicKey, alg string) bool {
	switch k := key.(type) {
	case *rsa.PublicKey:
		return alg == "RS256" && k != nil
	case *ecdsa.PublicKey:
		return alg == "ES256" && k != nil && k.Curve == elliptic.P256()
	}
	return false
}

// providerClaims are the claims of a provider token. Unknown claims (Cognito
// adds many) are ignored.
type providerClaims struct {
	identityClaims
	ProviderID *string `json:"goodfaith:provider_id,omitempty"`
}

var _ jwt.ClaimsValidator = (*providerClaims)(nil)

func (c *providerClaims) providerID() string {
	if c.ProviderID != nil {
		return *c.ProviderID
	}
	return c.Subject
}

// Validate applies the audience rule documented on ProviderVerifier and
// checks token_use and the provider id.
func (c *providerClaims) Validate() error {
	errs := c.identityErrors()
	if !validID(c.providerID()) {
		errs = append(errs, fmt.Errorf("%w: provider id", errBadClaim))
	}
	return errors.Join(errs...)
}

// StaticKeys is a KeySource over a fixed set of keys. It is safe for
// concurrent use.
type StaticKeys struct {
	keys map[string]crypto.PublicKey
}

var _ KeySource = (*StaticKeys)(nil)

// NewStaticKeys returns a StaticKeys holding every key of set. Each key must
// have a kid, no two the same, and pass jwk.Key.PublicKey.
func NewStaticKeys(set jwk.Set) (*StaticKeys, error) {
	s := &StaticKeys{keys: make(map[string]crypto.PublicKey, len(set.Keys))}
	for i, k := range set.Keys {
		if k.Kid == "" {
			return nil, fmt.Errorf("auth: static key %d has no kid", i)
		}
		if _, dup := s.keys[k.Kid]; dup {
			return nil, fmt.Errorf("auth: static keys repeat kid %q", k.Kid)
		}
		pub, err := k.PublicKey()
		if err != nil {
			return nil, fmt.Errorf("auth: static key %q: %w", k.Kid, err)
		}
		s.keys[k.Kid] = pub
	}
	return s, nil
}

// Key returns the key with kid, or an error wrapping ErrUnknownKey.
func (s *StaticKeys) Key(_ context.Context, kid string) (crypto.PublicKey, error) {
	if k, ok := s.keys[kid]; ok {
		return k, nil
	}
	return nil, ErrUnknownKey
}
