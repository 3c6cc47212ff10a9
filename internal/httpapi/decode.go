package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/goodfaith/goodfaith/internal/fault"
)

// MaxJSONBody is the largest JSON body accepted (API.md: 64 KiB).
const MaxJSONBody = 64 << 10

// readBody reads at most MaxJSONBody bytes.
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, MaxJSONBody+1))
	if err != nil {
		return nil, fault.Malformed("unreadable_body", "", "the request body could not be read")
	}
	if len(b) > MaxJSONBody {
		return nil, &fault.Error{Kind: fault.ErrTooLarge, Code: "body_too_large", Message: fmt.Sprintf("the body is over %d bytes", MaxJSONBody)}
	}
	return b, nil
}

// decodeStrict decodes one JSON value into v, refusing unknown fields,
// wrong types and trailing data, with the JSON path of the problem.
func decodeStrict(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return fault.Malformed("empty_body", "", "a JSON body is required")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fault.Malformed("malformed_json", "", "the body must hold exactly one JSON value")
	}
	return nil
}

func decodeError(err error) error {
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return fault.Malformed("malformed_json", "", "the body is not valid JSON")
	case errors.As(err, &typeErr):
		field := typeErr.Field
		return fault.Malformed("invalid_type", field, fmt.Sprintf("%s must be a JSON %s", orBody(field), jsonKind(typeErr.Type.Kind().String())))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return fault.Malformed("unknown_field", field, "this field is not part of the API")
	}
	// Errors from custom decoders (e.g. a number where a list is wanted).
	return fault.Malformed("invalid_value", "", err.Error())
}

func orBody(field string) string {
	if field == "" {
		return "the body"
	}
	return field
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "struct", "map":
		return "object"
	case "slice", "array":
		return "array"
	}
	return "number"
}
