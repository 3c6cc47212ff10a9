package auth

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"slices"

	"github.com/golang-jwt/jwt/v5"

	"github.com/goodfaith/goodfaith/internal/clock"
)

// identityClaims are what every identity-provider token carries, whoever it
// names (provider, clinic admin, medical director): the registered claims
// and Cognito's client_id and token_use.
type identityClaims struct {
	jwt.RegisteredClaims
	ClientID string `json:"client_id,omitempty"`
	TokenUse string `json:"token_use,omitempty"`

	audience string // expected audience, set by the verifier
}

// identityErrors applies the audience rule documented on ProviderVerifier
// and checks token_use; each role's Validate adds its own claims.
func (c *identityClaims) identityErrors() []error {
	var errs []error
	aud := slices.DeleteFunc(slices.Clone(c.Audience), func(s string) bool { return s == "" })
	switch {
	case len(aud) > 0:
		if !slices.Contains(aud, c.audience) {
			errs = append(errs, jwt.ErrTokenInvalidAudience)
		}
	case c.ClientID == "":
		errs = append(errs, fmt.Errorf("%w: aud or client_id", jwt.ErrTokenRequiredClaimMissing))
	case c.ClientID != c.audience:
		errs = append(errs, fmt.Errorf("%w: client_id", jwt.ErrTokenInvalidAudience))
	}
	if c.TokenUse != "" && c.TokenUse != "id" && c.TokenUse != "access" {
		errs = append(errs, fmt.Errorf("%w: token_use", errBadClaim))
	}
	return errs
}

// identityVerifier holds what the three token verifiers share: the issuer,
// the expected audience, the issuer's keys and a clock.
type identityVerifier struct {
	name     string // for configuration errors
	issuer   string
	audience string
	keys     KeySource
	clock    clock.Clock
}

// verify parses token into claims (whose identityClaims.audience the caller
// has set) under the rules documented on ProviderVerifier.
func (v identityVerifier) verify(ctx context.Context, token string, claims jwt.Claims) error {
	if v.issuer == "" || v.audience == "" || v.keys == nil {
		return fmt.Errorf("auth: %s needs Issuer, Audience and Keys", v.name)
	}
	if token == "" {
		return ErrMissingCredential
	}
	if len(token) > MaxTokenLen {
		return wrap(ErrInvalidToken, errors.New("token too long"))
	}
	var clk clock.Clock = clock.System{}
	if v.clock != nil {
		clk = v.clock
	}
	parser := jwt.NewParser(
		jwt.WithValidMethods(ProviderMethods),
		jwt.WithIssuer(v.issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(clk.Now),
		jwt.WithLeeway(Leeway),
		jwt.WithStrictDecoding(),
		// The audience is checked by the claims' Validate, which also
		// knows the client_id rule.
	)
	var keyErr error
	_, err := parser.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		key, err := v.key(ctx, t)
		keyErr = err
		return key, err
	})
	if err != nil {
		return classify(err, keyErr)
	}
	return nil
}

// key is the jwt.Keyfunc of verify.
func (v identityVerifier) key(ctx context.Context, t *jwt.Token) (crypto.PublicKey, error) {
	if _, ok := t.Header["crit"]; ok {
		return nil, wrap(ErrInvalidToken, errors.New("crit header not supported"))
	}
	kid, _ := t.Header["kid"].(string)
	if kid == "" || len(kid) > maxKidLen {
		return nil, wrap(ErrInvalidToken, errors.New("missing or oversized kid"))
	}
	key, err := v.keys.Key(ctx, kid)
	if err != nil {
		if errors.Is(err, ErrUnauthenticated) || errors.Is(err, ErrKeysUnavailable) {
			return nil, err
		}
		return nil, wrap(ErrKeysUnavailable, err)
	}
	if !keyFitsAlg(key, t.Method.Alg()) {
		return nil, wrap(ErrInvalidToken, errors.New("key type does not match alg"))
	}
	return key, nil
}
