package auth

import (
	"context"
	"errors"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// TestCognitoGroupsMapToRoles: Cognito's own ID tokens (no
// pre-token-generation trigger) carry cognito:groups and custom:clinic_id.
// A member of clinic-admins is the admin of their custom:clinic_id; a member
// of medical-directors is a director named by sub; the attribute or a group
// alone grants nothing, and goodfaith: claims still win where present.
func TestCognitoGroupsMapToRoles(t *testing.T) {
	w := newWorld(t)
	k := w.keys
	static, err := NewStaticKeys(trustedSet(k))
	if err != nil {
		t.Fatal(err)
	}
	admins := &ClinicAdminVerifier{Issuer: testIDPIssuer, Audience: testAudience, Keys: static, Clock: w.clock}
	directors := &DirectorVerifier{Issuer: testIDPIssuer, Audience: testAudience, Keys: static, Clock: w.clock}
	base := providerClaimsAt(t0)
	sub := base["sub"].(string)
	tok := func(set map[string]any) string {
		return sign(t, jwt.SigningMethodRS256, k.rsa, rsaKid, with(base, set))
	}
	ctx := context.Background()

	p, err := admins.Verify(ctx, tok(map[string]any{CognitoGroupsClaim: []string{"clinic-admins"}, CognitoClinicIDClaim: "clinic_glow"}))
	if err != nil || p.Role != RoleClinic || p.ClinicID != "clinic_glow" {
		t.Errorf("clinic admin from cognito:groups: %+v %v", p, err)
	}
	p, err = admins.Verify(ctx, tok(map[string]any{ClinicIDClaim: "clinic_a", CognitoGroupsClaim: []string{"clinic-admins"}, CognitoClinicIDClaim: "clinic_glow"}))
	if err != nil || p.ClinicID != "clinic_a" {
		t.Errorf("goodfaith:clinic_id must win: %+v %v", p, err)
	}
	for name, set := range map[string]map[string]any{
		"attribute without the group": {CognitoClinicIDClaim: "clinic_glow"},
		"attribute in another group":  {CognitoGroupsClaim: []string{"providers"}, CognitoClinicIDClaim: "clinic_glow"},
		"group without the attribute": {CognitoGroupsClaim: []string{"clinic-admins"}},
		"malformed clinic id":         {CognitoGroupsClaim: []string{"clinic-admins"}, CognitoClinicIDClaim: "clinic glow"},
	} {
		if p, err := admins.Verify(ctx, tok(set)); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("clinic admin, %s: %+v %v; want refused", name, p, err)
		}
	}

	p, err = directors.Verify(ctx, tok(map[string]any{CognitoGroupsClaim: []string{"providers", "medical-directors"}}))
	if err != nil || p.Role != RoleDirector || p.DirectorID != sub {
		t.Errorf("director from cognito:groups: %+v %v", p, err)
	}
	for name, set := range map[string]map[string]any{
		"no group":         {},
		"another group":    {CognitoGroupsClaim: []string{"clinic-admins"}},
		"group as a claim": {CognitoGroupsClaim: "medical-directors"},
		"another role":     {RoleClaim: "provider", CognitoGroupsClaim: []string{"medical-directors"}},
	} {
		if p, err := directors.Verify(ctx, tok(set)); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("director, %s: %+v %v; want refused", name, p, err)
		}
	}
}
