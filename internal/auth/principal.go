package auth

import (
	"time"
	"unicode"
	"unicode/utf8"
)

// Role is the kind of caller.
type Role string

// The roles of verified callers.
const (
	RolePatient  Role = "patient"
	RoleProvider Role = "provider"
	RoleClinic   Role = "clinic"
	// RoleDirector is a clinic's medical director (director.go).
	RoleDirector Role = "medical_director"
)

// Valid reports whether r is one of the defined roles.
func (r Role) Valid() bool {
	switch r {
	case RolePatient, RoleProvider, RoleClinic, RoleDirector:
		return true
	}
	return false
}

// Principal is a verified caller. Which ids are set depends on Role: a
// patient has ExamID and ClinicID, a provider ProviderID, a clinic ClinicID,
// a medical director DirectorID.
type Principal struct {
	Role       Role
	ClinicID   string
	ExamID     string
	ProviderID string
	DirectorID string
}

// Leeway is the clock skew tolerated when checking exp, nbf and iat.
const Leeway = 30 * time.Second

// MaxTokenLen bounds the length of a token this package will parse. Cognito
// tokens are a few kilobytes; this leaves room while keeping parsing cheap.
const MaxTokenLen = 8192

// MaxIDLen bounds exam, clinic and provider ids carried in tokens.
const MaxIDLen = 256

// validID reports whether s is usable as an id in a token: 1 to MaxIDLen
// bytes of valid UTF-8, printable, without spaces.
func validID(s string) bool {
	if s == "" || len(s) > MaxIDLen || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) || unicode.IsSpace(r) {
			return false
		}
	}
	return true
}
