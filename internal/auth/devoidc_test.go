package auth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/goodfaith/goodfaith/internal/clock"
)

func newOIDC(t *testing.T) (*DevOIDC, *clock.Fake) {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	d, err := NewDevIssuer(DevIssuerConfig{Dir: t.TempDir(), Issuer: "http://127.0.0.1:8080/dev", Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	return &DevOIDC{Issuer: d, RedirectOrigins: []string{"http://127.0.0.1:8080"}}, clk
}

func challengeOf(v string) string {
	s := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(s[:])
}

var verifier = strings.Repeat("v", 50)

func request(client string) AuthorizeRequest {
	return AuthorizeRequest{ResponseType: "code", ClientID: client, RedirectURI: "http://127.0.0.1:8080/console/", Scope: "openid profile",
		State: "s", Nonce: "n", CodeChallenge: challengeOf(verifier), CodeChallengeMethod: "S256"}
}

func oauthCode(err error) string {
	var oe *OAuthError
	if errors.As(err, &oe) {
		return oe.Code
	}
	return ""
}

func TestDevOIDCChecksTheAuthorizationRequest(t *testing.T) {
	o, _ := newOIDC(t)
	for name, c := range map[string]struct {
		change func(r *AuthorizeRequest)
		want   string
	}{
		"unknown client":       {func(r *AuthorizeRequest) { r.ClientID = "other" }, "invalid_client"},
		"foreign redirect":     {func(r *AuthorizeRequest) { r.RedirectURI = "https://evil.example/console/" }, "invalid_request"},
		"relative redirect":    {func(r *AuthorizeRequest) { r.RedirectURI = "/console/" }, "invalid_request"},
		"fragment redirect":    {func(r *AuthorizeRequest) { r.RedirectURI = "http://127.0.0.1:8080/console/#x" }, "invalid_request"},
		"implicit flow":        {func(r *AuthorizeRequest) { r.ResponseType = "token" }, "unsupported_response_type"},
		"plain PKCE":           {func(r *AuthorizeRequest) { r.CodeChallengeMethod = "plain" }, "invalid_request"},
		"no challenge":         {func(r *AuthorizeRequest) { r.CodeChallenge = "" }, "invalid_request"},
		"challenge not b64url": {func(r *AuthorizeRequest) { r.CodeChallenge = strings.Repeat("+", 43) }, "invalid_request"},
		"no openid scope":      {func(r *AuthorizeRequest) { r.Scope = "profile" }, "invalid_scope"},
		"no state":             {func(r *AuthorizeRequest) { r.State = "" }, "invalid_request"},
	} {
		r := request(o.ConsoleClient())
		c.change(&r)
		if _, err := o.IssueCode(r, "prov_tx_md"); oauthCode(err) != c.want {
			t.Errorf("%s: %v, want %s", name, err, c.want)
		}
	}
}

func TestDevOIDCCodesAreSingleUseShortLivedAndBound(t *testing.T) {
	o, clk := newOIDC(t)
	console := o.ConsoleClient()
	issue := func() string {
		code, err := o.IssueCode(request(console), "prov_tx_md")
		if err != nil {
			t.Fatal(err)
		}
		return code
	}
	// Expired.
	code := issue()
	clk.Advance(DevCodeTTL + time.Second)
	if _, err := o.Exchange("authorization_code", code, console, "http://127.0.0.1:8080/console/", verifier); oauthCode(err) != "invalid_grant" {
		t.Fatalf("expired code: %v", err)
	}
	// Wrong redirect, grant type, verifier.
	for name, ex := range map[string]func(code string) error{
		"redirect": func(c string) error {
			_, err := o.Exchange("authorization_code", c, console, "http://127.0.0.1:8080/other/", verifier)
			return err
		},
		"verifier": func(c string) error {
			_, err := o.Exchange("authorization_code", c, console, "http://127.0.0.1:8080/console/", strings.Repeat("w", 50))
			return err
		},
		"grant": func(c string) error {
			_, err := o.Exchange("password", c, console, "http://127.0.0.1:8080/console/", verifier)
			return err
		},
	} {
		if err := ex(issue()); err == nil {
			t.Errorf("%s: exchanged", name)
		}
	}
	// Right: a provider token the console's verifier accepts, once.
	code = issue()
	tok, err := o.Exchange("authorization_code", code, console, "http://127.0.0.1:8080/console/", verifier)
	if err != nil {
		t.Fatal(err)
	}
	pv, _ := o.Issuer.Verifier()
	p, err := pv.Verify(context.Background(), tok.IDToken)
	if err != nil || p.ProviderID != "prov_tx_md" || p.Role != RoleProvider {
		t.Fatalf("provider token: %+v %v", p, err)
	}
	if _, err := o.Exchange("authorization_code", code, console, "http://127.0.0.1:8080/console/", verifier); oauthCode(err) != "invalid_grant" {
		t.Fatalf("second exchange: %v", err)
	}
	// A provider token is not a clinic-admin token.
	cv, err := o.ClinicAdminVerifier()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cv.Verify(context.Background(), tok.IDToken); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("provider token accepted as clinic admin: %v", err)
	}
}

func TestClinicAdminVerifier(t *testing.T) {
	o, clk := newOIDC(t)
	cv, err := o.ClinicAdminVerifier()
	if err != nil {
		t.Fatal(err)
	}
	code, err := o.IssueCode(request(o.DashboardClient()), "clinic_a")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := o.Exchange("authorization_code", code, o.DashboardClient(), "http://127.0.0.1:8080/console/", verifier)
	if err != nil {
		t.Fatal(err)
	}
	p, err := cv.Verify(context.Background(), tok.IDToken)
	if err != nil || p.ClinicID != "clinic_a" || p.Role != RoleClinic {
		t.Fatalf("clinic admin: %+v %v", p, err)
	}
	// Not a provider token.
	pv, _ := o.Issuer.Verifier()
	if _, err := pv.Verify(context.Background(), tok.IDToken); err == nil {
		t.Fatal("clinic-admin token accepted as a provider token")
	}
	// A token of the right audience without a clinic id is refused.
	bare, err := o.Issuer.mintClaims(map[string]any{"aud": o.DashboardClient(), "sub": "someone"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cv.Verify(context.Background(), bare); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("no clinic id: %v", err)
	}
	// Another issuer's verifier refuses it; expiry is enforced.
	other := *cv
	other.Issuer = "https://cognito-idp.us-east-1.amazonaws.com/pool"
	if _, err := other.Verify(context.Background(), tok.IDToken); err == nil {
		t.Fatal("accepted under another issuer")
	}
	clk.Advance(DefaultDevTokenTTL + time.Minute)
	if _, err := cv.Verify(context.Background(), tok.IDToken); !errors.Is(err, ErrExpiredToken) {
		t.Fatalf("expired: %v", err)
	}
}

// TestDevOIDCDirectorSignIn: the directors' client signs a director in;
// the ID token passes the DirectorVerifier and no other verifier.
func TestDevOIDCDirectorSignIn(t *testing.T) {
	o, _ := newOIDC(t)
	if kind, ok := o.SubjectKind(o.DirectorClient()); !ok || kind != SubjectDirector {
		t.Fatalf("director client: %q %v", kind, ok)
	}
	code, err := o.IssueCode(request(o.DirectorClient()), "md_coast")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := o.Exchange("authorization_code", code, o.DirectorClient(), "http://127.0.0.1:8080/console/", verifier)
	if err != nil {
		t.Fatal(err)
	}
	dv, err := o.Issuer.DirectorVerifier()
	if err != nil {
		t.Fatal(err)
	}
	p, err := dv.Verify(context.Background(), tok.IDToken)
	if err != nil || p.DirectorID != "md_coast" || p.Role != RoleDirector {
		t.Fatalf("director: %+v %v", p, err)
	}
	pv, _ := o.Issuer.Verifier()
	cv, _ := o.ClinicAdminVerifier()
	if _, err := pv.Verify(context.Background(), tok.IDToken); err == nil {
		t.Fatal("director token accepted as a provider token")
	}
	if _, err := cv.Verify(context.Background(), tok.IDToken); err == nil {
		t.Fatal("director token accepted as a clinic-admin token")
	}
}
