package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The dev issuer's OpenID Connect face (-dev only): the authorization-code
// flow with PKCE (S256) that the provider console and the clinic dashboard
// run against it locally, exactly as they run against the Cognito hosted
// UI in AWS. Three public clients exist: the provider console, whose client
// id is the issuer's audience (its ID tokens are provider tokens), the
// clinic dashboard (DefaultDevDashboardClientID), whose ID tokens are
// clinic-admin tokens for ClinicAdminVerifier, and the medical directors'
// sign-in to the dashboard, whose client id is the issuer's
// DirectorAudience (its ID tokens are director tokens, as MintDirector's).

// DefaultDevDashboardClientID is the clinic dashboard's client id at the
// dev issuer.
const DefaultDevDashboardClientID = "goodfaith-dev-dashboard"

// DevCodeTTL is how long an authorization code may wait to be exchanged.
const DevCodeTTL = time.Minute

// Subject kinds a dev sign-in can be for.
const (
	SubjectProvider    = "provider"
	SubjectClinicAdmin = "clinic_admin"
	SubjectDirector    = "medical_director"
)

// OAuthError is an RFC 6749 error (error and error_description).
type OAuthError struct {
	Code        string
	Description string
}

func (e *OAuthError) Error() string { return "oauth: " + e.Code + ": " + e.Description }

func oauthErr(code, desc string) error { return &OAuthError{Code: code, Description: desc} }

// AuthorizeRequest is what /authorize receives.
type AuthorizeRequest struct {
	ResponseType        string
	ClientID            string
	RedirectURI         string
	Scope               string
	State               string
	Nonce               string
	CodeChallenge       string
	CodeChallengeMethod string
}

// TokenResponse is the token endpoint's answer.
type TokenResponse struct {
	AccessToken string `json:"access_token"`
	IDToken     string `json:"id_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	Scope       string `json:"scope"`
}

type devCode struct {
	req     AuthorizeRequest
	kind    string
	id      string
	expires time.Time
}

// DevOIDC runs the authorization-code + PKCE flow for the dev issuer. It is
// safe for concurrent use; codes live in memory and are single-use.
type DevOIDC struct {
	Issuer *DevIssuer
	// DashboardClientID defaults to DefaultDevDashboardClientID.
	DashboardClientID string
	// RedirectOrigins are the origins a redirect_uri may point to (the
	// local server's own).
	RedirectOrigins []string
	// TokenTTL defaults to DefaultDevTokenTTL.
	TokenTTL time.Duration

	mu    sync.Mutex
	codes map[string]devCode
}

// DashboardClient is the dashboard's client id.
func (o *DevOIDC) DashboardClient() string {
	if o.DashboardClientID != "" {
		return o.DashboardClientID
	}
	return DefaultDevDashboardClientID
}

// ConsoleClient is the provider console's client id (the issuer's audience).
func (o *DevOIDC) ConsoleClient() string { return o.Issuer.Audience() }

// DirectorClient is the medical directors' client id (the issuer's
// director audience, so its ID tokens pass the DirectorVerifier).
func (o *DevOIDC) DirectorClient() string { return o.Issuer.DirectorAudience() }

// SubjectKind tells which kind of user signs in to clientID.
func (o *DevOIDC) SubjectKind(clientID string) (string, bool) {
	switch clientID {
	case o.ConsoleClient():
		return SubjectProvider, true
	case o.DashboardClient():
		return SubjectClinicAdmin, true
	case o.DirectorClient():
		return SubjectDirector, true
	}
	return "", false
}

// ClinicAdminVerifier verifies the dashboard's tokens.
func (o *DevOIDC) ClinicAdminVerifier() (*ClinicAdminVerifier, error) {
	keys, err := NewStaticKeys(o.Issuer.JWKS())
	if err != nil {
		return nil, err
	}
	return &ClinicAdminVerifier{Issuer: o.Issuer.Issuer(), Audience: o.DashboardClient(), Keys: keys, Clock: o.Issuer.clock}, nil
}

// CheckRedirect reports whether clientID and redirectURI are acceptable:
// a redirect may go back to a registered client only, at one of
// RedirectOrigins. It is checked before anything is shown, so a bad
// redirect_uri is never redirected to (RFC 6749 §4.1.2.1).
func (o *DevOIDC) CheckRedirect(clientID, redirectURI string) error {
	if _, ok := o.SubjectKind(clientID); !ok {
		return oauthErr("invalid_client", "unknown client_id")
	}
	u, err := url.Parse(redirectURI)
	if err != nil || u.Scheme == "" || u.Host == "" || u.Fragment != "" || u.User != nil || len(redirectURI) > 2048 {
		return oauthErr("invalid_request", "redirect_uri must be an absolute URL without a fragment")
	}
	if !slices.Contains(o.RedirectOrigins, u.Scheme+"://"+u.Host) {
		return oauthErr("invalid_request", "redirect_uri is not registered for this client")
	}
	return nil
}

// CheckAuthorize validates the rest of an authorization request (after
// CheckRedirect): response_type code, openid scope, S256 PKCE, a state.
func (o *DevOIDC) CheckAuthorize(r AuthorizeRequest) error {
	if err := o.CheckRedirect(r.ClientID, r.RedirectURI); err != nil {
		return err
	}
	switch {
	case r.ResponseType != "code":
		return oauthErr("unsupported_response_type", "only response_type=code is supported")
	case r.CodeChallengeMethod != "S256":
		return oauthErr("invalid_request", "PKCE with code_challenge_method=S256 is required")
	case len(r.CodeChallenge) != 43 || !isBase64URL(r.CodeChallenge):
		return oauthErr("invalid_request", "code_challenge must be a base64url SHA-256 (43 characters)")
	case !slices.Contains(splitScope(r.Scope), "openid"):
		return oauthErr("invalid_scope", "scope must include openid")
	case r.State == "" || len(r.State) > 512 || len(r.Nonce) > 512:
		return oauthErr("invalid_request", "state is required (up to 512 characters)")
	}
	return nil
}

// IssueCode records a sign-in of subject (a provider id or a clinic id, as
// the client's kind says) and returns its single-use code.
func (o *DevOIDC) IssueCode(r AuthorizeRequest, subjectID string) (string, error) {
	if err := o.CheckAuthorize(r); err != nil {
		return "", err
	}
	if !validID(subjectID) {
		return "", oauthErr("invalid_request", "choose who signs in")
	}
	kind, _ := o.SubjectKind(r.ClientID)
	code, err := randomString(32)
	if err != nil {
		return "", err
	}
	now := o.Issuer.clock.Now()
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.codes == nil {
		o.codes = map[string]devCode{}
	}
	for k, c := range o.codes {
		if now.After(c.expires) {
			delete(o.codes, k)
		}
	}
	if len(o.codes) >= 10000 {
		return "", oauthErr("temporarily_unavailable", "too many pending sign-ins")
	}
	o.codes[code] = devCode{req: r, kind: kind, id: subjectID, expires: now.Add(DevCodeTTL)}
	return code, nil
}

// Exchange redeems a code (once) for tokens, checking the client, the
// redirect_uri and the PKCE verifier.
func (o *DevOIDC) Exchange(grantType, code, clientID, redirectURI, verifier string) (TokenResponse, error) {
	if grantType != "authorization_code" {
		return TokenResponse{}, oauthErr("unsupported_grant_type", "only authorization_code is supported")
	}
	if code == "" || verifier == "" {
		return TokenResponse{}, oauthErr("invalid_request", "code and code_verifier are required")
	}
	o.mu.Lock()
	c, found := o.codes[code]
	delete(o.codes, code) // single use, whatever happens next
	o.mu.Unlock()
	now := o.Issuer.clock.Now()
	if !found || now.After(c.expires) {
		return TokenResponse{}, oauthErr("invalid_grant", "the code is unknown, used or expired")
	}
	if c.req.ClientID != clientID || c.req.RedirectURI != redirectURI {
		return TokenResponse{}, oauthErr("invalid_grant", "client_id or redirect_uri differ from the authorization request")
	}
	if len(verifier) < 43 || len(verifier) > 128 {
		return TokenResponse{}, oauthErr("invalid_grant", "code_verifier must be 43 to 128 characters")
	}
	sum := sha256.Sum256([]byte(verifier))
	if subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(c.req.CodeChallenge)) != 1 {
		return TokenResponse{}, oauthErr("invalid_grant", "code_verifier does not match code_challenge")
	}
	ttl := o.TokenTTL
	if ttl <= 0 {
		ttl = DefaultDevTokenTTL
	}
	claims := jwt.MapClaims{"aud": clientID, "token_use": "id"}
	if c.req.Nonce != "" {
		claims["nonce"] = c.req.Nonce
	}
	switch c.kind {
	case SubjectProvider:
		claims["sub"] = c.id
		claims[ProviderIDClaim] = c.id
	case SubjectClinicAdmin:
		claims["sub"] = "admin@" + c.id
		claims[ClinicIDClaim] = c.id
	case SubjectDirector:
		claims["sub"] = c.id
		claims[DirectorIDClaim] = c.id
		claims[RoleClaim] = string(RoleDirector)
	}
	tok, err := o.Issuer.mintClaims(claims, ttl)
	if err != nil {
		return TokenResponse{}, err
	}
	return TokenResponse{AccessToken: tok, IDToken: tok, TokenType: "Bearer", ExpiresIn: int(ttl / time.Second), Scope: c.req.Scope}, nil
}

// MintClinicAdmin returns a clinic-admin token for clinicID with the
// dashboard's audience (tests and demos).
func (o *DevOIDC) MintClinicAdmin(clinicID string, ttl time.Duration) (string, error) {
	if !validID(clinicID) {
		return "", errors.New("auth: invalid clinic id")
	}
	if ttl <= 0 {
		ttl = DefaultDevTokenTTL
	}
	return o.Issuer.mintClaims(jwt.MapClaims{"aud": o.DashboardClient(), "sub": "admin@" + clinicID, ClinicIDClaim: clinicID}, ttl)
}

// mintClaims signs claims with iss, iat, nbf, exp and jti added.
func (d *DevIssuer) mintClaims(claims jwt.MapClaims, ttl time.Duration) (string, error) {
	if ttl > MaxDevTokenTTL {
		return "", fmt.Errorf("auth: dev token TTL %v is over %v", ttl, MaxDevTokenTTL)
	}
	jti, err := randomString(16)
	if err != nil {
		return "", err
	}
	now := d.clock.Now()
	claims["iss"] = d.issuer
	claims["iat"] = jwt.NewNumericDate(now)
	claims["nbf"] = jwt.NewNumericDate(now)
	claims["exp"] = jwt.NewNumericDate(now.Add(ttl))
	claims["jti"] = jti
	t := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	t.Header["kid"] = d.kid
	return t.SignedString(d.key)
}

func splitScope(s string) []string {
	var out []string
	start := -1
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ' ' {
			if start >= 0 {
				out = append(out, s[start:i])
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	return out
}

func isBase64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
