package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/goodfaith/goodfaith/internal/auth"
	"github.com/goodfaith/goodfaith/internal/fault"
)

// errorBody is the error envelope of API.md. Details (e.g.
// modalities_allowed) appear both inside the error and at the top level of
// the body, where a client of API.md may look for them.
type errorBody struct {
	Error errorDetail `json:"error"`
}

func (b errorBody) MarshalJSON() ([]byte, error) {
	out := map[string]any{}
	for k, v := range b.Error.Details {
		out[k] = v
	}
	out["error"] = b.Error
	return json.Marshal(out)
}

type errorDetail struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Field   string         `json:"field,omitempty"`
	Details map[string]any `json:"details,omitempty"`
}

// statusOf maps an error to its status and body: the only place where
// domain errors meet HTTP.
func statusOf(err error) (int, errorBody) {
	var fe *fault.Error
	if errors.As(err, &fe) {
		return kindStatus(fe.Kind), errorBody{Error: errorDetail{Code: fe.Code, Message: fe.Message, Field: fe.Field, Details: fe.Details}}
	}
	if errors.Is(err, auth.ErrUnauthenticated) {
		return http.StatusUnauthorized, errorBody{Error: errorDetail{Code: "unauthenticated", Message: "missing, invalid or expired credential"}}
	}
	return http.StatusInternalServerError, errorBody{Error: errorDetail{Code: "internal", Message: "something went wrong on our side; nothing was changed, please retry"}}
}

func kindStatus(kind error) int {
	switch kind {
	case fault.ErrNotFound:
		return http.StatusNotFound
	case fault.ErrConflict:
		return http.StatusConflict
	case fault.ErrInvalid:
		return http.StatusUnprocessableEntity
	case fault.ErrForbidden:
		return http.StatusForbidden
	case fault.ErrMalformed:
		return http.StatusBadRequest
	case fault.ErrTooLarge:
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusInternalServerError
}

// Errors the HTTP layer raises itself.
var (
	errNotFound      = fault.NotFound("not_found", "no such resource")
	errOriginRefused = fault.Forbidden("origin_not_allowed", "this website is not allowed to use this clinic's key")
)
