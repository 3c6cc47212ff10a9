package auth

import (
	"context"
	"errors"
	"fmt"

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
	claims := clinicAdminClaims{identityClaims: identityClaims{audience: v.Audience}}
	iv := identityVerifier{name: "ClinicAdminVerifier", issuer: v.Issuer, audience: v.Audience, keys: v.Keys, clock: v.Clock}
	if err := iv.verify(ctx, token, &claims); err != nil {
		return Principal{}, err
	}
	return Principal{Role: RoleClinic, ClinicID: claims.ClinicID}, nil
}

type clinicAdminClaims struct {
	identityClaims
	ClinicID string `json:"goodfaith:clinic_id,omitempty"`
}

var _ jwt.ClaimsValidator = (*clinicAdminClaims)(nil)

// Validate applies ProviderVerifier's audience rule and requires the
// clinic id.
func (c *clinicAdminClaims) Validate() error {
	errs := c.identityErrors()
	if !validID(c.ClinicID) {
		errs = append(errs, fmt.Errorf("%w: clinic id", errBadClaim))
	}
	if !validID(c.Subject) {
		errs = append(errs, fmt.Errorf("%w: sub", errBadClaim))
	}
	return errors.Join(errs...)
}
