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
// local dev issuer sets it when it mints one.
const ClinicIDClaim = "goodfaith:clinic_id"

// What Cognito puts in its ID tokens by itself, with no pre-token-generation
// trigger: the user's groups, and the custom attributes the app client may
// read. template.yaml declares the group and the attribute (immutable, so
// that no user can move themselves to another clinic; only an
// administrator sets it, when creating the user).
const (
	// CognitoGroupsClaim lists the user's groups.
	CognitoGroupsClaim = "cognito:groups"
	// CognitoClinicAdminsGroup holds the clinics' administrators.
	CognitoClinicAdminsGroup = "clinic-admins"
	// CognitoClinicIDClaim is the user's custom:clinic_id attribute: for a
	// member of CognitoClinicAdminsGroup, the clinic they administer when
	// the token has no ClinicIDClaim.
	CognitoClinicIDClaim = "custom:clinic_id"
)

// ClinicAdminVerifier verifies the clinic dashboard's sign-in tokens: the
// same rules as ProviderVerifier (algorithm, kid, signature, issuer, exp,
// nbf, iat, token_use), with the dashboard's own app client as audience and
// a well-formed clinic id required: goodfaith:clinic_id, or else, for a
// member of the clinic-admins group, custom:clinic_id (as Cognito issues
// them). Because the audience is
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
	return Principal{Role: RoleClinic, ClinicID: claims.clinicID()}, nil
}

type clinicAdminClaims struct {
	identityClaims
	ClinicID      string   `json:"goodfaith:clinic_id,omitempty"`
	CognitoClinic string   `json:"custom:clinic_id,omitempty"`
	CognitoGroups []string `json:"cognito:groups,omitempty"`
}

// clinicID is goodfaith:clinic_id, else custom:clinic_id for a member of
// the clinic-admins group (a user outside it administers no clinic, whatever
// their attribute says).
func (c *clinicAdminClaims) clinicID() string {
	if c.ClinicID != "" {
		return c.ClinicID
	}
	if slices.Contains(c.CognitoGroups, CognitoClinicAdminsGroup) {
		return c.CognitoClinic
	}
	return ""
}

var _ jwt.ClaimsValidator = (*clinicAdminClaims)(nil)

// Validate applies ProviderVerifier's audience rule and requires the
// clinic id.
func (c *clinicAdminClaims) Validate() error {
	errs := c.identityErrors()
	if !validID(c.clinicID()) {
		errs = append(errs, fmt.Errorf("%w: clinic id", errBadClaim))
	}
	if !validID(c.Subject) {
		errs = append(errs, fmt.Errorf("%w: sub", errBadClaim))
	}
	return errors.Join(errs...)
}
