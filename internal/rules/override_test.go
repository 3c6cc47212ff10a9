package rules

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/goodfaith/goodfaith/internal/fault"
)

func faultCode(err error) (code, field string) {
	var fe *fault.Error
	if errors.As(err, &fe) {
		return fe.Code, fe.Field
	}
	return "", ""
}

func TestValidateOverrides(t *testing.T) {
	s := Default()
	cases := []struct {
		name      string
		ovs       Overrides
		wantCode  string
		wantField string
	}{
		{"require video everywhere", Overrides{{State: Any, Treatment: Any, Modalities: []Modality{Video}}}, "", ""},
		{"exclude NP and PA everywhere", Overrides{{State: Any, Treatment: Any, Performers: []LicenseType{MD, DO}}}, "", ""},
		{"block a treatment in a state", Overrides{{State: "TX", Treatment: "glp1", Blocked: true, Reason: "not offered by our director"}}, "", ""},
		{"allow async where the law requires video", Overrides{{State: "OH", Treatment: "neurotoxin", Modalities: []Modality{Async}}}, "override_loosens_rule", "rules[0].modalities"},
		{"allow NP where the physician must assess", Overrides{{State: "MD", Treatment: "neurotoxin", Performers: []LicenseType{MD, NP}}}, "override_loosens_rule", "rules[0].performers"},
		{"allow RN anywhere", Overrides{{State: Any, Treatment: "neurotoxin", Performers: []LicenseType{RN}}}, "override_loosens_rule", "rules[0].performers"},
		{"async for testosterone everywhere", Overrides{{State: Any, Treatment: "testosterone", Modalities: []Modality{Async}}}, "override_loosens_rule", "rules[0].modalities"},
		{"NP for neurotoxin everywhere is a tightening elsewhere", Overrides{{State: Any, Treatment: "neurotoxin", Performers: []LicenseType{NP}}}, "", ""},
		{"PA alone where the physician must assess", Overrides{{State: "MD", Treatment: "neurotoxin", Performers: []LicenseType{PA}}}, "override_loosens_rule", "rules[0].performers"},
		{"unknown state", Overrides{{State: "ZZ", Treatment: Any, Blocked: true}}, "state_unknown", "rules[0].state"},
		{"unknown treatment", Overrides{{State: Any, Treatment: "tattoo", Blocked: true}}, "treatment_unknown", "rules[0].treatment"},
		{"unknown modality", Overrides{{State: Any, Treatment: Any, Modalities: []Modality{"phone"}}}, "invalid_modality", "rules[0].modalities"},
		{"unknown licence type", Overrides{{State: Any, Treatment: Any, Performers: []LicenseType{"LVN"}}}, "invalid_license_type", "rules[0].performers"},
		{"a row that says nothing", Overrides{{State: "TX", Treatment: Any}}, "override_empty", "rules[0].state"},
		{"blocked with lists", Overrides{{State: "TX", Treatment: Any, Blocked: true, Modalities: []Modality{Video}}}, "override_ambiguous", "rules[0].blocked"},
		{"second row is checked too", Overrides{{State: "TX", Treatment: Any, Blocked: true}, {State: "GA", Treatment: "glp1", Modalities: []Modality{Async}}}, "override_loosens_rule", "rules[1].modalities"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := s.Validate(c.ovs, nov2026)
			code, field := faultCode(err)
			if code != c.wantCode || field != c.wantField {
				t.Fatalf("got %v (code %q field %q), want code %q field %q", err, code, field, c.wantCode, c.wantField)
			}
			if c.wantCode != "" && !errors.Is(err, fault.ErrInvalid) {
				t.Fatalf("%v is not fault.ErrInvalid", err)
			}
		})
	}
}

func TestOverridesTightenTheRule(t *testing.T) {
	s := Default()
	ovs := Overrides{
		{State: Any, Treatment: "dermal_filler", Modalities: []Modality{Video}},
		{State: "TX", Treatment: Any, Performers: []LicenseType{MD, DO}},
		{State: "CA", Treatment: "glp1", Blocked: true, Reason: "director reviews GLP-1 in person"},
	}
	if err := s.Validate(ovs, nov2026); err != nil {
		t.Fatal(err)
	}
	law, err := s.ForExam("TX", []string{"dermal_filler"}, nov2026)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(law.Modalities, []Modality{Video, Async}) {
		t.Fatalf("law in TX: %v", law.Modalities)
	}
	got, err := s.ForClinicExam("TX", []string{"dermal_filler"}, nov2026, ovs)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Modalities, []Modality{Video}) || !slices.Equal(got.Performers, []LicenseType{MD, DO}) || !got.PerCategory["dermal_filler"].ClinicTightened {
		t.Fatalf("tightened TX filler = %+v", got)
	}
	// Untouched combinations keep the law.
	got, err = s.ForClinicExam("FL", []string{"neurotoxin"}, nov2026, ovs)
	if err != nil || !slices.Equal(got.Modalities, []Modality{Video, Async}) || !slices.Equal(got.Performers, []LicenseType{MD, DO, NP, PA}) {
		t.Fatalf("FL neurotoxin = %+v, %v", got, err)
	}
	_, err = s.ForClinicExam("CA", []string{"neurotoxin", "glp1"}, nov2026, ovs)
	var fe *fault.Error
	if !errors.As(err, &fe) || fe.Code != "treatment_blocked" || fe.Details["blocked_by"] != "clinic" {
		t.Fatalf("CA glp1: %v, want treatment_blocked by the clinic", err)
	}
}

func TestOverrideOutlivedByStricterLaw(t *testing.T) {
	s := Default()
	// Valid in 2026: video-only testosterone is what the law asks.
	ovs := Overrides{{State: "TX", Treatment: "testosterone", Modalities: []Modality{Video}}}
	if err := s.Validate(ovs, nov2026); err != nil {
		t.Fatal(err)
	}
	// From 2027 the law blocks it; the override cannot bring it back.
	_, err := s.ForClinicExam("TX", []string{"testosterone"}, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), ovs)
	var fe *fault.Error
	if !errors.As(err, &fe) || fe.Code != "treatment_blocked" || fe.Details["blocked_by"] != "law" {
		t.Fatalf("2027: %v, want treatment_blocked by law", err)
	}
}
