package rules

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

// apiCategories are the treatment categories of API.md.
var apiCategories = []string{"neurotoxin", "dermal_filler", "laser_energy", "iv_therapy", "glp1", "peptide", "testosterone"}

// researched are the states whose law the research file cites.
var researched = []string{"AZ", "CA", "FL", "GA", "HI", "IA", "MD", "TX", "WA"}

func TestDataCoversEveryStateAndCategoryWithProvenance(t *testing.T) {
	s := Default()
	if !slices.Equal(s.Categories(), slices.Sorted(slices.Values(apiCategories))) {
		t.Fatalf("categories %v, want %v", s.Categories(), apiCategories)
	}
	usps := []string{"AK", "AL", "AR", "AZ", "CA", "CO", "CT", "DC", "DE", "FL", "GA", "HI", "IA", "ID", "IL", "IN", "KS", "KY", "LA", "MA", "MD", "ME", "MI", "MN", "MO", "MS", "MT", "NC", "ND", "NE", "NH", "NJ", "NM", "NV", "NY", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VA", "VT", "WA", "WI", "WV", "WY"}
	if !slices.Equal(s.States(), usps) {
		t.Fatalf("states %v, want the 50 states and DC", s.States())
	}
	for _, code := range s.States() {
		st := s.data().States[code]
		if err := checkProvenance(code, st); err != nil {
			t.Error(err)
		}
		known := *st.Known
		if known != slices.Contains(researched, code) {
			t.Errorf("%s: known = %v; only the researched states are encoded", code, known)
		}
		for _, c := range apiCategories {
			r, err := s.Resolve(code, c, nov2026)
			if err != nil {
				t.Errorf("%s/%s: %v", code, c, err)
				continue
			}
			if r.LawEncoded != known {
				t.Errorf("%s/%s: LawEncoded %v, known %v", code, c, r.LawEncoded, known)
			}
			if !known && (!slices.Equal(r.Modalities, []Modality{Video}) || !slices.Equal(r.Performers, []LicenseType{MD, DO, NP, PA})) {
				t.Errorf("%s/%s: unknown law must take the strict default, got %v by %v", code, c, r.Modalities, r.Performers)
			}
			if slices.Contains(r.Modalities, Async) && !r.AsyncRequiresPhotos {
				t.Errorf("%s/%s: async without photos is a questionnaire alone", code, c)
			}
			if r.OrderValidityDays <= 0 || r.RetentionYears < 6 {
				t.Errorf("%s/%s: validity %d days, retention %d years", code, c, r.OrderValidityDays, r.RetentionYears)
			}
		}
	}
}

func TestCitedFacts(t *testing.T) {
	s := Default()
	cases := []struct {
		fact       string
		state, cat string
		modalities []Modality
		performers []LicenseType
		dea        bool
	}{
		{"TX Occ. Code 111.005: async store-and-forward with photos", "TX", "dermal_filler", []Modality{Video, Async}, []LicenseType{MD, DO, NP, PA}, false},
		{"TX HB 3749: IV therapy GFE stays with MD/DO/NP/PA (RN only administers)", "TX", "iv_therapy", []Modality{Video, Async}, []LicenseType{MD, DO, NP, PA}, false},
		{"MD COMAR 10.32.09.05: physician performs the initial cosmetic assessment", "MD", "neurotoxin", []Modality{Video}, []LicenseType{MD, DO}, false},
		{"MD COMAR 10.32.09.05: lasers are cosmetic procedures too", "MD", "laser_energy", []Modality{Video}, []LicenseType{MD, DO}, false},
		{"FL 456.47 with 64B8-9.0141(5): async only with photos for the provider", "FL", "neurotoxin", []Modality{Video, Async}, []LicenseType{MD, DO, NP, PA}, false},
		{"CA B&P 2290.5: sync and async", "CA", "neurotoxin", []Modality{Video, Async}, []LicenseType{MD, DO, NP, PA}, false},
		{"AZ HB 2454: async; Golob: never a questionnaire alone", "AZ", "glp1", []Modality{Video, Async}, []LicenseType{MD, DO, NP, PA}, false},
		{"HI 453-1.3: async with a documented evaluation", "HI", "neurotoxin", []Modality{Video, Async}, []LicenseType{MD, DO, NP, PA}, false},
		{"IA: questionnaire alone not acceptable, rest unknown: video", "IA", "neurotoxin", []Modality{Video}, []LicenseType{MD, DO, NP, PA}, false},
		{"WA: modality unknown: video", "WA", "neurotoxin", []Modality{Video}, []LicenseType{MD, DO, NP, PA}, false},
		{"GA: RNs cannot prescribe", "GA", "neurotoxin", []Modality{Video}, []LicenseType{MD, DO, NP, PA}, false},
		{"testosterone: video and DEA even in TX", "TX", "testosterone", []Modality{Video}, []LicenseType{MD, DO, NP, PA}, true},
		{"testosterone: video and DEA in FL", "FL", "testosterone", []Modality{Video}, []LicenseType{MD, DO, NP, PA}, true},
	}
	for _, c := range cases {
		t.Run(c.fact, func(t *testing.T) {
			r, err := s.Resolve(c.state, c.cat, nov2026)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(r.Modalities, c.modalities) || !slices.Equal(r.Performers, c.performers) || r.RequiresDEAInState != c.dea {
				t.Fatalf("got %v by %v, DEA %v", r.Modalities, r.Performers, r.RequiresDEAInState)
			}
			if slices.Contains(r.Modalities, Async) && !r.AsyncRequiresPhotos {
				t.Fatal("async here needs photos")
			}
		})
	}
}

func TestTestosteroneFlipsOn2027EverywhereAndNothingElseDoes(t *testing.T) {
	s := Default()
	last := time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC)
	first := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, st := range s.States() {
		for _, c := range apiCategories {
			_, before := s.Resolve(st, c, last)
			_, after := s.Resolve(st, c, first)
			if before != nil {
				t.Errorf("%s/%s on 2026-12-31: %v", st, c, before)
			}
			code, _ := faultCode(after)
			switch {
			case c == "testosterone" && code != "treatment_blocked":
				t.Errorf("%s/testosterone on 2027-01-01: %v, want treatment_blocked", st, after)
			case c != "testosterone" && after != nil:
				t.Errorf("%s/%s on 2027-01-01: %v", st, c, after)
			}
		}
	}
}

func TestStateLawAppliesFromItsEffectiveDate(t *testing.T) {
	s := Default()
	before, err := s.Resolve("TX", "neurotoxin", time.Date(2025, 1, 8, 12, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if before.LawEncoded || !slices.Equal(before.Modalities, []Modality{Video}) {
		t.Fatalf("TX before 22 TAC 169.25 took effect: %+v, want the strict default", before)
	}
	on, err := s.Resolve("TX", "neurotoxin", time.Date(2025, 1, 9, 0, 0, 0, 0, time.UTC))
	if err != nil || !on.LawEncoded || !slices.Equal(on.Modalities, []Modality{Video, Async}) {
		t.Fatalf("TX on its effective date: %+v %v", on, err)
	}
}

func TestParseRefusesEntriesWithoutProvenance(t *testing.T) {
	var f map[string]any
	if err := json.Unmarshal(embedded, &f); err != nil {
		t.Fatal(err)
	}
	for _, drop := range []string{"effective_from", "reviewed_on", "sources", "known"} {
		t.Run(drop, func(t *testing.T) {
			var g map[string]any
			_ = json.Unmarshal(embedded, &g)
			delete(g["states"].(map[string]any)["TX"].(map[string]any), drop)
			raw, _ := json.Marshal(g)
			if _, err := Parse(raw); err == nil {
				t.Fatalf("a state without %s was accepted", drop)
			}
		})
	}
}
