package auth

import (
	"errors"

	"github.com/golang-jwt/jwt/v5"
)

// errBadClaim is joined into claim validation errors for application claims
// (sub, clinic, provider id, token_use) that are missing or malformed.
var errBadClaim = errors.New("bad claim")

// classify turns an error from jwt.Parser into one of this package's
// sentinels. keyErr, when set, is the error the key function returned; it
// is already classified and wins.
//
// Other messages from jwt are fixed strings or registered alg names, so the
// result never quotes token contents.
//
// A token with several claim problems is reported as ErrInvalidToken unless
// its only problems are timing (expired or not yet valid), so a client is
// never told "expired" about a token a refresh would not fix.
func classify(err, keyErr error) error {
	if keyErr != nil {
		return keyErr
	}
	if errors.Is(err, jwt.ErrTokenMalformed) {
		// The decoder's message can quote token contents (an unknown claim's
		// name, a bad value); keep it out of logs.
		return wrap(ErrInvalidToken, jwt.ErrTokenMalformed)
	}
	for _, e := range []error{
		jwt.ErrTokenMalformed,
		jwt.ErrTokenUnverifiable,
		jwt.ErrTokenSignatureInvalid,
		jwt.ErrTokenInvalidAudience,
		jwt.ErrTokenInvalidIssuer,
		jwt.ErrTokenInvalidSubject,
		jwt.ErrTokenInvalidId,
		jwt.ErrTokenRequiredClaimMissing,
		jwt.ErrInvalidType,
		errBadClaim,
	} {
		if errors.Is(err, e) {
			return wrap(ErrInvalidToken, err)
		}
	}
	switch {
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return wrap(ErrTokenNotYetValid, err)
	case errors.Is(err, jwt.ErrTokenExpired):
		return wrap(ErrExpiredToken, err)
	}
	return wrap(ErrInvalidToken, err)
}
