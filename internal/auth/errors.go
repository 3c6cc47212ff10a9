package auth

import (
	"errors"
	"fmt"
)

// ErrUnauthenticated is wrapped by every error that means the caller did not
// prove who they are. The HTTP layer maps it to 401.
var ErrUnauthenticated = errors.New("auth: unauthenticated")

var (
	// ErrMissingCredential is returned when no credential was presented: an
	// empty Authorization header or an empty token.
	ErrMissingCredential = fmt.Errorf("%w: missing credential", ErrUnauthenticated)

	// ErrMalformedCredential is returned by ParseBearer for an Authorization
	// header that is not exactly "Bearer <token>" with a token in the RFC 6750
	// character set and within MaxTokenLen.
	ErrMalformedCredential = fmt.Errorf("%w: malformed credential", ErrUnauthenticated)

	// ErrInvalidToken is returned for a token that is malformed, too long,
	// uses a refused algorithm (none, HS256 where RS256/ES256 is expected and
	// the reverse), carries a bad signature, has no kid where one is needed,
	// names a key of another type than its alg, or has a wrong or missing
	// issuer, audience, subject or other required claim.
	ErrInvalidToken = fmt.Errorf("%w: invalid token", ErrUnauthenticated)

	// ErrExpiredToken is returned for a correctly signed token whose exp has
	// passed (beyond Leeway) and which has nothing else wrong with it. A
	// client can fix it by getting a new token.
	ErrExpiredToken = fmt.Errorf("%w: token expired", ErrUnauthenticated)

	// ErrTokenNotYetValid is returned for a correctly signed token whose nbf
	// or iat is still in the future (beyond Leeway), usually clock skew.
	ErrTokenNotYetValid = fmt.Errorf("%w: token not yet valid", ErrUnauthenticated)

	// ErrUnknownKey is returned when a token's kid names no key the key
	// source knows, even after the refresh a RemoteJWKS allows.
	ErrUnknownKey = fmt.Errorf("%w: unknown signing key", ErrUnauthenticated)

	// ErrInvalidAPIKey is for a clinic secret or publishable key that is
	// badly formed or matches no clinic. This package returns it from
	// CheckSecretKeyFormat; the HTTP layer also uses it when a well-formed
	// key has no clinic.
	ErrInvalidAPIKey = fmt.Errorf("%w: invalid API key", ErrUnauthenticated)
)

// ErrKeysUnavailable is returned when the provider signing keys could not be
// obtained at all (the JWKS endpoint failed and nothing usable is cached).
// It does NOT wrap ErrUnauthenticated: the token may be fine, the server
// cannot check it, and the HTTP layer should answer 503.
var ErrKeysUnavailable = errors.New("auth: signing keys unavailable")

// wrap returns an error wrapping kind and, when not nil, cause.
func wrap(kind error, cause error) error {
	if cause == nil {
		return kind
	}
	return fmt.Errorf("%w: %w", kind, cause)
}
