package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/goodfaith/goodfaith/internal/clock"
)

// Claims of a medical director's token.
const (
	// RoleClaim names the caller's role; a director's token carries
	// "medical_director" (the local dev issuer's), or else is of a member of
	// CognitoDirectorsGroup (Cognito's, through CognitoGroupsClaim).
	RoleClaim = "goodfaith:role"
	// CognitoDirectorsGroup holds the medical directors.
	CognitoDirectorsGroup = "medical-directors"
	// DirectorIDClaim names the director; without it the director id is sub.
	DirectorIDClaim = "goodfaith:director_id"
)

// DirectorVerifier verifies medical directors' JWTs: the same rules as
// ProviderVerifier (algorithm, kid, signature against the issuer's JWKS,
// issuer, exp, nbf, iat, token_use, the aud/client_id rule) with the
// directors' own audience, and a goodfaith:role claim equal to
// "medical_director" or membership of the medical-directors group (as
// Cognito issues them: cognito:groups). A provider's token (another audience, no role claim)
// is therefore never a director's, and a director's is never a provider's.
type DirectorVerifier struct {
	Issuer   string
	Audience string
	Keys     KeySource
	Clock    clock.Clock
}

// Verify checks a director token and returns its Principal (RoleDirector,
// DirectorID). Which clinics the director serves is the directory's to say,
// not the token's. Failures wrap ErrUnauthenticated, or ErrKeysUnavailable
// when the key source cannot answer.
func (v *DirectorVerifier) Verify(ctx context.Context, token string) (Principal, error) {
	claims := directorClaims{identityClaims: identityClaims{audience: v.Audience}}
	iv := identityVerifier{name: "DirectorVerifier", issuer: v.Issuer, audience: v.Audience, keys: v.Keys, clock: v.Clock}
	if err := iv.verify(ctx, token, &claims); err != nil {
		return Principal{}, err
	}
	return Principal{Role: RoleDirector, DirectorID: claims.directorID()}, nil
}

type directorClaims struct {
	identityClaims
	Role          string   `json:"goodfaith:role,omitempty"`
	DirectorID    *string  `json:"goodfaith:director_id,omitempty"`
	CognitoGroups []string `json:"cognito:groups,omitempty"`
}

// role is goodfaith:role, else the director's role for a member of the
// medical-directors group.
func (c *directorClaims) role() string {
	if c.Role == "" && slices.Contains(c.CognitoGroups, CognitoDirectorsGroup) {
		return string(RoleDirector)
	}
	return c.Role
}

var _ jwt.ClaimsValidator = (*directorClaims)(nil)

func (c *directorClaims) directorID() string {
	if c.DirectorID != nil {
		return *c.DirectorID
	}
	return c.Subject
}

// Validate applies ProviderVerifier's audience rule and requires the role
// and a well-formed director id.
func (c *directorClaims) Validate() error {
	errs := c.identityErrors()
	if c.role() != string(RoleDirector) {
		errs = append(errs, fmt.Errorf("%w: role", errBadClaim))
	}
	if !validID(c.directorID()) {
		errs = append(errs, fmt.Errorf("%w: director id", errBadClaim))
	}
	return errors.Join(errs...)
}

// DirectorAudience is the aud of the dev issuer's director tokens: another
// audience than its provider tokens', as a separate app client would be.
func (d *DevIssuer) DirectorAudience() string { return d.audience + "-director" }

// DirectorVerifier returns a DirectorVerifier that accepts d's director
// tokens.
func (d *DevIssuer) DirectorVerifier() (*DirectorVerifier, error) {
	keys, err := NewStaticKeys(d.JWKS())
	if err != nil {
		return nil, err
	}
	return &DirectorVerifier{Issuer: d.issuer, Audience: d.DirectorAudience(), Keys: keys, Clock: d.clock}, nil
}

// MintDirector returns a medical director's token for directorID, valid for
// ttl (as Mint): sub and goodfaith:director_id = directorID, goodfaith:role =
// medical_director, aud = DirectorAudience.
func (d *DevIssuer) MintDirector(directorID string, ttl time.Duration) (string, error) {
	if !validID(directorID) {
		return "", errors.New("auth: invalid director id")
	}
	if ttl <= 0 {
		ttl = DefaultDevTokenTTL
	}
	if ttl > MaxDevTokenTTL {
		return "", fmt.Errorf("auth: dev token TTL %v is over %v", ttl, MaxDevTokenTTL)
	}
	jti, err := randomString(16)
	if err != nil {
		return "", err
	}
	now := d.clock.Now()
	t := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{
		"iss": d.issuer, "aud": d.DirectorAudience(), "sub": directorID,
		DirectorIDClaim: directorID, RoleClaim: string(RoleDirector),
		"iat": jwt.NewNumericDate(now), "nbf": jwt.NewNumericDate(now), "exp": jwt.NewNumericDate(now.Add(ttl)), "jti": jti,
	})
	t.Header["kid"] = d.kid
	s, err := t.SignedString(d.key)
	if err != nil {
		return "", fmt.Errorf("auth: sign dev token: %w", err)
	}
	return s, nil
}
