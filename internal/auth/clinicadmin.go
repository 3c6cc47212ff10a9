package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/golang-jwt/jwt/v5"

	"github.com/goodfaith/goodfaith/internal/clock"
)

// ClinicIDClaim names the clinic a clinic-admin token administers. The
// identity provider sets it: the local dev issuer when it mints one, Cognito
// through a pre-token-generation trigger that copies the user's
// custom:clinic_id attribute.
const ClinicIDClaim = "goodfaith:clinic_id"

// ClinicAdminVerifier verifies the clinic dashboard's sign-in tokens: the
// same rules as ProviderVerifier (algorithm, kid, signature, issuer, exp,
// nbf, iat, token_use), with the dashboard's own app client as audience and
// a well-formed goodfaith:clinic_id claim required. Because the audience is
// the dashboard's client, a provider's token (the console's client) is not
// a clinic-admin token, and a clinic-admin token is not a provider's.
type ClinicAdminVerifier struct {
	Issuer   string
	Audience string
	Keys     KeySource
	Clock    clock.Clock
}

// Verify checks a clinic-admin token and returns its Principal (RoleClinic,
// ClinicID). Failures wrap ErrUnauthenticated, or ErrKeysUnavailable when
// the key source cannot answer.
func (v *ClinicAdminVerifier) Verify(ctx context.Context, token string) (Principal, error) {
	if v.Issuer == "" || v.Audience == "" || v.Keys == nil {
		return Principal{}, errors.New("auth: ClinicAdminVerifier needs Issuer, Audience and Keys")
	}
	if token == "" {
		return Principal{}, ErrMissingCredential
	}
	if len(token) > MaxTokenLen {
		return Principal{}, wrap(ErrInvalidToken, errors.New("token too long"))
	}
	var clk clock.Clock = clock.System{}
	if v.Clock != nil {
		clk = v.Clock
	}
	parser := jwt.NewParser(
		jwt.WithValidMethods(ProviderMethods),
		jwt.WithIssuer(v.Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(clk.Now),
		jwt.WithLeeway(Leeway),
		jwt.WithStrictDecoding(),
	)
	claims := clinicAdminClaims{audience: v.Audience}
	pv := &ProviderVerifier{Keys: v.Keys}
	var keyErr error
	_, err := parser.ParseWithClaims(token, &claims, func(t *jwt.Token) (any, error) {
		key, err := pv.key(ctx, t)
		keyErr = err
		return key, err
	})
	if err != nil {
		return Principal{}, classify(err, keyErr)
	}
	return Principal{Role: RoleClinic, ClinicID: claims.ClinicID}, nil
}

type clinicAdminClaims struct {
	jwt.RegisteredClaims
	ClientID string `json:"client_id,omitempty"`
	TokenUse string `json:"token_use,omitempty"`
	ClinicID string `json:"goodfaith:clinic_id,omitempty"`

	audience string
}

var _ jwt.ClaimsValidator = (*clinicAdminClaims)(nil)

// Validate applies ProviderVerifier's audience rule and requires the
// clinic id.
func (c *clinicAdminClaims) Validate() error {
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
	if !validID(c.ClinicID) {
		errs = append(errs, fmt.Errorf("%w: clinic id", errBadClaim))
	}
	if !validID(c.Subject) {
		errs = append(errs, fmt.Errorf("%w: sub", errBadClaim))
	}
	return errors.Join(errs...)
}
