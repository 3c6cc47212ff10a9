package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// Prefixes of clinic API keys.
const (
	SecretKeyLivePrefix  = "sk_live_"
	SecretKeyTestPrefix  = "sk_test_"
	PublishableKeyPrefix = "pk_"
)

// secretKeyBytes is the entropy of a generated secret key.
const secretKeyBytes = 32

// Length bounds of key formats.
const (
	maxTestSecretBody      = 128
	MaxPublishableKeyLen   = 128
	generatedSecretBodyLen = 43 // base64url of 32 bytes, unpadded
)

// GenerateSecretKey returns a new live clinic secret key: "sk_live_"
// followed by 32 random bytes in unpadded base64url.
func GenerateSecretKey() (string, error) { return generateSecret(SecretKeyLivePrefix) }

// GenerateTestSecretKey returns a new test-mode clinic secret key:
// "sk_test_" followed by 32 random bytes in unpadded base64url.
func GenerateTestSecretKey() (string, error) { return generateSecret(SecretKeyTestPrefix) }

func generateSecret(prefix string) (string, error) {
	s, err := randomString(secretKeyBytes)
	if err != nil {
		return "", err
	}
	return prefix + s, nil
}

// randomString returns n random bytes in unpadded base64url.
func randomString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("auth: random bytes: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// HashSecretKey returns the hex SHA-256 of a secret key, the form in which
// keys are stored and looked up. A fast, unsalted hash is appropriate here
// (unlike for passwords): generated keys carry 256 random bits, so the hash
// cannot be reversed by guessing, and an unsalted digest can be used as a
// lookup key. Hand-chosen test keys such as a local seed's "sk_test_glow"
// get no such protection and must never guard real data.
func HashSecretKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// ValidSecretKeyFormat reports whether key looks like a clinic secret key:
// "sk_live_" followed by exactly the 43 base64url characters
// GenerateSecretKey writes, or "sk_test_" followed by 1 to 128 characters of
// [A-Za-z0-9_-] (test keys may be chosen by hand for local seeds). It checks
// only the shape, before a lookup by hash.
func ValidSecretKeyFormat(key string) bool {
	switch {
	case strings.HasPrefix(key, SecretKeyLivePrefix):
		body := key[len(SecretKeyLivePrefix):]
		if len(body) != generatedSecretBodyLen || !safeChars(body) {
			return false
		}
		_, err := base64.RawURLEncoding.Strict().DecodeString(body)
		return err == nil
	case strings.HasPrefix(key, SecretKeyTestPrefix):
		body := key[len(SecretKeyTestPrefix):]
		return body != "" && len(body) <= maxTestSecretBody && safeChars(body)
	}
	return false
}

// CheckSecretKeyFormat returns nil when ValidSecretKeyFormat(key) holds,
// ErrMissingCredential for an empty key, and ErrInvalidAPIKey otherwise.
func CheckSecretKeyFormat(key string) error {
	switch {
	case key == "":
		return ErrMissingCredential
	case !ValidSecretKeyFormat(key):
		return ErrInvalidAPIKey
	}
	return nil
}

// ValidPublishableKeyFormat reports whether key looks like a publishable
// key: "pk_" followed by at least one character, at most
// MaxPublishableKeyLen in all, every character in [A-Za-z0-9_-].
func ValidPublishableKeyFormat(key string) bool {
	body, ok := strings.CutPrefix(key, PublishableKeyPrefix)
	return ok && body != "" && len(key) <= MaxPublishableKeyLen && safeChars(body)
}

// safeChars reports whether s is made only of [A-Za-z0-9_-].
func safeChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// ParseBearer returns the token of an Authorization header of the form
// "Bearer <token>". The scheme is matched case-insensitively, one or more
// spaces may separate it from the token, and surrounding spaces and tabs
// are ignored. The token must be a single RFC 6750 b64token
// ([A-Za-z0-9-._~+/]+ followed by optional '=') of at most MaxTokenLen
// bytes. An empty header gives ErrMissingCredential; anything else that
// does not fit gives ErrMalformedCredential.
func ParseBearer(header string) (string, error) {
	h := strings.Trim(header, " \t")
	if h == "" {
		return "", ErrMissingCredential
	}
	scheme, rest, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", ErrMalformedCredential
	}
	token := strings.TrimLeft(rest, " ")
	if token == "" || len(token) > MaxTokenLen || !b64token(token) {
		return "", ErrMalformedCredential
	}
	return token, nil
}

// b64token reports whether s matches 1*( ALPHA / DIGIT / "-" / "." / "_" /
// "~" / "+" / "/" ) *"=" (RFC 6750 section 2.1).
func b64token(s string) bool {
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/') {
			break
		}
	}
	if i == 0 {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] != '=' {
			return false
		}
	}
	return true
}
