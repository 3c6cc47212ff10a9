// Package fault holds the domain's error kinds. Domain code returns them;
// the HTTP layer maps each kind to a status in one place (httpapi), so no
// domain package knows about HTTP.
package fault

import "errors"

// Kinds of failure. Match them with errors.Is.
var (
	// ErrNotFound: the resource does not exist or belongs to someone else
	// (another tenant's resources are reported as missing, never forbidden).
	ErrNotFound = errors.New("not found")
	// ErrConflict: the resource is in the wrong state for the request
	// (already claimed, already decided, submitted).
	ErrConflict = errors.New("conflict")
	// ErrInvalid: the request is well-formed but breaks a rule (unknown
	// state, missing answer, consent missing).
	ErrInvalid = errors.New("invalid")
	// ErrForbidden: the caller is known but may not do this.
	ErrForbidden = errors.New("forbidden")
	// ErrMalformed: the request cannot be read (bad JSON, unknown field).
	ErrMalformed = errors.New("malformed")
	// ErrTooLarge: the request is over a size limit.
	ErrTooLarge = errors.New("too large")
)

// Error is a failure with a machine code, a sentence for people, and the
// JSON path of the offending field when there is one.
type Error struct {
	Kind    error
	Code    string
	Message string
	Field   string
	// Details, if set, is added to the error body (e.g. the allowed
	// modalities when a modality is refused).
	Details map[string]any
}

func (e *Error) Error() string {
	if e.Field != "" {
		return e.Code + ": " + e.Message + " (" + e.Field + ")"
	}
	return e.Code + ": " + e.Message
}

// Unwrap lets errors.Is match the kind.
func (e *Error) Unwrap() error { return e.Kind }

// NotFound reports a missing resource.
func NotFound(code, message string) error {
	return &Error{Kind: ErrNotFound, Code: code, Message: message}
}

// Conflict reports a state conflict.
func Conflict(code, message string) error {
	return &Error{Kind: ErrConflict, Code: code, Message: message}
}

// Invalid reports a broken rule on field.
func Invalid(code, field, message string) error {
	return &Error{Kind: ErrInvalid, Code: code, Field: field, Message: message}
}

// Forbidden reports a refused action.
func Forbidden(code, message string) error {
	return &Error{Kind: ErrForbidden, Code: code, Message: message}
}

// Malformed reports an unreadable request.
func Malformed(code, field, message string) error {
	return &Error{Kind: ErrMalformed, Code: code, Field: field, Message: message}
}
