package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/goodfaith/goodfaith/internal/clock"
)

// PatientAudience is the aud of every patient token.
const PatientAudience = "goodfaith-patient"

// DefaultPatientTokenTTL is the lifetime of a patient token when
// NewPatientTokens is given zero.
const DefaultPatientTokenTTL = 24 * time.Hour

// MinPatientSecretLen is the shortest HMAC secret NewPatientTokens accepts.
const MinPatientSecretLen = 32

// PatientTokens issues and verifies patient tokens: HS256 JWTs with
// iss = the configured issuer, aud = PatientAudience, sub = the exam id, a
// "clinic" claim with the clinic id, and iat, nbf and exp. Nothing else is
// accepted in the claims. It is safe for concurrent use.
type PatientTokens struct {
	secret []byte
	issuer string
	ttl    time.Duration
	clock  clock.Clock
	parser *jwt.Parser
}

// NewPatientTokens returns a PatientTokens signing with secret (at least
// MinPatientSecretLen bytes; it is copied), naming issuer, issuing tokens
// valid for ttl (DefaultPatientTokenTTL when zero) and reading the time from
// clk (the system clock when nil).
func NewPatientTokens(secret []byte, issuer string, ttl time.Duration, clk clock.Clock) (*PatientTokens, error) {
	if len(secret) < MinPatientSecretLen {
		return nil, fmt.Errorf("auth: patient token secret is %d bytes, need at least %d", len(secret), MinPatientSecretLen)
	}
	if issuer == "" {
		return nil, errors.New("auth: patient token issuer is empty")
	}
	if ttl == 0 {
		ttl = DefaultPatientTokenTTL
	}
	if ttl < time.Minute {
		return nil, fmt.Errorf("auth: patient token TTL %v is shorter than a minute", ttl)
	}
	if clk == nil {
		clk = clock.System{}
	}
	p := &PatientTokens{
		secret: bytes.Clone(secret),
		issuer: issuer,
		ttl:    ttl,
		clock:  clk,
	}
	p.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(issuer),
		jwt.WithAudience(PatientAudience),
		jwt.WithExpirationRequired(),
		jwt.WithNotBeforeRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(clk.Now),
		jwt.WithLeeway(Leeway),
		jwt.WithStrictDecoding(),
	)
	return p, nil
}

// TTL is the lifetime of the tokens p issues.
func (p *PatientTokens) TTL() time.Duration { return p.ttl }

// Issue returns a patient token for one exam of one clinic, and when it
// expires.
func (p *PatientTokens) Issue(examID, clinicID string) (string, time.Time, error) {
	if !validID(examID) {
		return "", time.Time{}, errors.New("auth: invalid exam id for a patient token")
	}
	if !validID(clinicID) {
		return "", time.Time{}, errors.New("auth: invalid clinic id for a patient token")
	}
	now := p.clock.Now()
	exp := jwt.NewNumericDate(now.Add(p.ttl))
	claims := &patientClaims{
		Issuer:    p.issuer,
		Subject:   examID,
		Audience:  jwt.ClaimStrings{PatientAudience},
		Clinic:    clinicID,
		IssuedAt:  jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now),
		ExpiresAt: exp,
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(p.secret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("auth: sign patient token: %w", err)
	}
	return tok, exp.Time, nil
}

// Verify checks a patient token and returns its Principal (RolePatient,
// ExamID, ClinicID). Every failure wraps ErrUnauthenticated.
func (p *PatientTokens) Verify(token string) (Principal, error) {
	if token == "" {
		return Principal{}, ErrMissingCredential
	}
	if len(token) > MaxTokenLen {
		return Principal{}, wrap(ErrInvalidToken, errors.New("token too long"))
	}
	var claims patientClaims
	var keyErr error
	_, err := p.parser.ParseWithClaims(token, &claims, func(t *jwt.Token) (any, error) {
		// WithValidMethods already limits alg to HS256; this guards the key
		// against ever being handed to another algorithm.
		if t.Method != jwt.SigningMethodHS256 {
			keyErr = wrap(ErrInvalidToken, errors.New("unexpected signing method"))
			return nil, keyErr
		}
		return p.secret, nil
	})
	if err != nil {
		return Principal{}, classify(err, keyErr)
	}
	return Principal{Role: RolePatient, ExamID: claims.Subject, ClinicID: claims.Clinic}, nil
}

// patientClaims is the complete claim set of a patient token. Decoding
// refuses any other member, so a token signed with the patient secret for
// another purpose cannot pass as a patient token.
type patientClaims struct {
	Issuer    string           `json:"iss"`
	Subject   string           `json:"sub"`
	Audience  jwt.ClaimStrings `json:"aud"`
	Clinic    string           `json:"clinic"`
	IssuedAt  *jwt.NumericDate `json:"iat"`
	NotBefore *jwt.NumericDate `json:"nbf"`
	ExpiresAt *jwt.NumericDate `json:"exp"`
}

var (
	_ jwt.Claims          = (*patientClaims)(nil)
	_ jwt.ClaimsValidator = (*patientClaims)(nil)
	_ json.Unmarshaler    = (*patientClaims)(nil)
)

// UnmarshalJSON decodes strictly: an unknown member fails.
func (c *patientClaims) UnmarshalJSON(b []byte) error {
	type plain patientClaims
	var v plain
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return err
	}
	*c = patientClaims(v)
	return nil
}

func (c *patientClaims) GetExpirationTime() (*jwt.NumericDate, error) { return c.ExpiresAt, nil }
func (c *patientClaims) GetIssuedAt() (*jwt.NumericDate, error)       { return c.IssuedAt, nil }
func (c *patientClaims) GetNotBefore() (*jwt.NumericDate, error)      { return c.NotBefore, nil }
func (c *patientClaims) GetIssuer() (string, error)                   { return c.Issuer, nil }
func (c *patientClaims) GetSubject() (string, error)                  { return c.Subject, nil }
func (c *patientClaims) GetAudience() (jwt.ClaimStrings, error)       { return c.Audience, nil }

// Validate checks the claims jwt.Validator does not: sub and clinic are
// well-formed ids and iat is present.
func (c *patientClaims) Validate() error {
	var errs []error
	if !validID(c.Subject) {
		errs = append(errs, fmt.Errorf("%w: sub", errBadClaim))
	}
	if !validID(c.Clinic) {
		errs = append(errs, fmt.Errorf("%w: clinic", errBadClaim))
	}
	if c.IssuedAt == nil {
		errs = append(errs, fmt.Errorf("%w: iat is required", jwt.ErrTokenRequiredClaimMissing))
	}
	return errors.Join(errs...)
}
