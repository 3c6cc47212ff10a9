package httpapi

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/goodfaith/goodfaith/internal/auth"
	"github.com/goodfaith/goodfaith/internal/exam"
	"github.com/goodfaith/goodfaith/internal/fault"
)

func TestDecodeStrict(t *testing.T) {
	cases := []struct {
		body  string
		code  string
		field string
	}{
		{``, "empty_body", ""},
		{`{`, "malformed_json", ""},
		{`{"patient":{"first_name":1}}`, "invalid_type", "patient.first_name"},
		{`{"treatments":"x"}`, "invalid_type", "treatments"},
		{`{"nope":1}`, "unknown_field", "nope"},
		{`{} {}`, "malformed_json", ""},
		{`{}garbage`, "malformed_json", ""},
	}
	for _, c := range cases {
		var in exam.CreateInput
		err := decodeStrict([]byte(c.body), &in)
		var fe *fault.Error
		if !errors.As(err, &fe) || fe.Code != c.code || fe.Field != c.field || !errors.Is(err, fault.ErrMalformed) {
			t.Errorf("%q: got %v, want %s %s", c.body, err, c.code, c.field)
		}
	}
	var in exam.CreateInput
	if err := decodeStrict([]byte(`{"patient":{"first_name":"A"},"treatments":["neurotoxin"],"modality":"async"}`), &in); err != nil || in.Patient.FirstName != "A" {
		t.Fatalf("valid body: %v %+v", err, in)
	}
}

func TestStatusOf(t *testing.T) {
	cases := []struct {
		err  error
		want int
	}{
		{fault.NotFound("x", "y"), http.StatusNotFound},
		{fault.Conflict("x", "y"), http.StatusConflict},
		{fault.Invalid("x", "f", "y"), http.StatusUnprocessableEntity},
		{fault.Forbidden("x", "y"), http.StatusForbidden},
		{fault.Malformed("x", "f", "y"), http.StatusBadRequest},
		{&fault.Error{Kind: fault.ErrTooLarge, Code: "x", Message: "y"}, http.StatusRequestEntityTooLarge},
		{auth.ErrExpiredToken, http.StatusUnauthorized},
		{auth.ErrMissingCredential, http.StatusUnauthorized},
		{errors.New("disk on fire"), http.StatusInternalServerError},
	}
	for _, c := range cases {
		got, body := statusOf(c.err)
		if got != c.want || body.Error.Code == "" || body.Error.Message == "" {
			t.Errorf("%v: got %d %+v, want %d", c.err, got, body, c.want)
		}
	}
	// A server error never echoes its cause (it may name internals).
	if _, body := statusOf(errors.New("secret detail")); strings.Contains(body.Error.Message, "secret") {
		t.Fatalf("internal error leaked: %+v", body)
	}
}

// FuzzDecodeRequests feeds arbitrary bytes to every request decoder: they
// must never panic, and anything they accept must be a JSON object.
func FuzzDecodeRequests(f *testing.F) {
	for _, seed := range []string{
		`{"patient":{"first_name":"A","last_name":"B","dob":"1990-01-01","email":"a@b.co","state":"TX"},"treatments":["neurotoxin"],"modality":"async"}`,
		`{"answers":{"pregnant":true,"photos":["att_1"]},"consents":{"telehealth":true,"privacy":true},"modality":"video","attachments":["att_1"]}`,
		`{"outcome":"approved","orders":[{"treatment":"neurotoxin","product":"p","dose":20,"route":"im","areas":"glabella","quantity":"1","refills":0,"valid_days":30}],"attestation":{"accepted":true}}`,
		`{"kind":"photo","content_type":"image/png","size":12}`,
		`{"jws":"a.b.c"}`, `{`, `[]`, `null`, `{"orders":[{"dose":{}}]}`, "\x00",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		targets := []any{&exam.CreateInput{}, &exam.IntakeInput{}, &exam.DecisionInput{}, &exam.AttachmentInput{}}
		for _, v := range targets {
			err := decodeStrict(body, v)
			if err == nil {
				trimmed := strings.TrimSpace(string(body))
				if !strings.HasPrefix(trimmed, "{") && trimmed != "null" {
					t.Fatalf("accepted a non-object: %q", body)
				}
				continue
			}
			var fe *fault.Error
			if !errors.As(err, &fe) || fe.Code == "" {
				t.Fatalf("decode error without a code: %v", err)
			}
		}
	})
}
