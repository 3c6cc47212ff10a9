package rules

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/goodfaith/goodfaith/internal/fault"
)

var nov2026 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// The embedded rules pass Parse's checks (every state and category
// resolves today), which Default leaves to this test.
func TestEmbeddedRulesParse(t *testing.T) {
	if _, err := Parse(embedded); err != nil {
		t.Fatal(err)
	}
}

func TestEveryStateAndCategoryResolves(t *testing.T) {
	s := Default()
	if got := len(s.States()); got != 51 {
		t.Fatalf("states = %d, want 50 + DC", got)
	}
	for _, st := range s.States() {
		for _, c := range s.Categories() {
			r, err := s.Resolve(st, c, nov2026)
			if err != nil {
				t.Errorf("%s/%s: %v", st, c, err)
				continue
			}
			if slices.Contains(r.Performers, RN) {
				t.Errorf("%s/%s: RN may perform a GFE; no source allows it", st, c)
			}
			if len(r.Sources) == 0 {
				t.Errorf("%s/%s: no sources", st, c)
			}
		}
	}
}

func TestResearchedFacts(t *testing.T) {
	s := Default()
	cases := []struct {
		name       string
		state, cat string
		modalities []Modality
		photos     bool
		performers []LicenseType
	}{
		{"TX allows async store-and-forward with photos", "TX", "neurotoxin", []Modality{Video, Async}, true, []LicenseType{MD, DO, NP, PA}},
		{"MD physician performs the initial cosmetic assessment", "MD", "dermal_filler", []Modality{Video}, true, []LicenseType{MD, DO}},
		{"FL async needs photos, never a questionnaire alone", "FL", "glp1", []Modality{Video, Async}, true, []LicenseType{MD, DO, NP, PA}},
		{"unknown law takes the strict default", "OH", "neurotoxin", []Modality{Video}, true, []LicenseType{MD, DO, NP, PA}},
		{"testosterone needs video even where async is allowed", "TX", "testosterone", []Modality{Video}, true, []LicenseType{MD, DO, NP, PA}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := s.Resolve(c.state, c.cat, nov2026)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(r.Modalities, c.modalities) || r.AsyncRequiresPhotos != c.photos || !slices.Equal(r.Performers, c.performers) {
				t.Fatalf("got modalities %v photos %v performers %v", r.Modalities, r.AsyncRequiresPhotos, r.Performers)
			}
		})
	}
}

func TestTestosteroneWindowEndsOn2027(t *testing.T) {
	s := Default()
	r, err := s.Resolve("TX", "testosterone", time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatalf("on the window's last day: %v", err)
	}
	if !r.RequiresDEAInState || r.ControlledSchedule != "III" {
		t.Fatalf("testosterone must need DEA in state: %+v", r)
	}
	_, err = s.Resolve("TX", "testosterone", time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
	var fe *fault.Error
	if !errors.As(err, &fe) || fe.Code != "treatment_blocked" {
		t.Fatalf("on 2027-01-01 got %v, want treatment_blocked", err)
	}
}

func TestForExamCombinesStrictly(t *testing.T) {
	s := Default()
	ex, err := s.ForExam("TX", []string{"neurotoxin", "testosterone"}, nov2026)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ex.Modalities, []Modality{Video}) || !ex.RequiresDEAInState || !slices.Equal(ex.Controlled, []string{"testosterone"}) {
		t.Fatalf("combined = %+v", ex)
	}
	for _, bad := range []struct{ state, cat, code string }{{"ZZ", "neurotoxin", "state_not_served"}, {"TX", "tattoo", "treatment_unknown"}} {
		_, err := s.ForExam(bad.state, []string{bad.cat}, nov2026)
		var fe *fault.Error
		if !errors.As(err, &fe) || fe.Code != bad.code || !errors.Is(err, fault.ErrInvalid) {
			t.Errorf("%s/%s: got %v, want %s", bad.state, bad.cat, err, bad.code)
		}
	}
}
