package questionnaire

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/goodfaith/goodfaith/internal/fault"
	"github.com/goodfaith/goodfaith/internal/rules"
)

func TestEveryCategoryHasACitedQuestionnaire(t *testing.T) {
	s := Default()
	for _, c := range rules.Default().Categories() {
		q, ok := s.For(c)
		if !ok {
			t.Errorf("no questionnaire for %s", c)
			continue
		}
		if len(q.Sources) == 0 || len(q.Item) == 0 || q.Version == "" {
			t.Errorf("%s: sources, items and version are required", c)
		}
	}
}

func raw(t *testing.T, m map[string]any) map[string]json.RawMessage {
	t.Helper()
	out := map[string]json.RawMessage{}
	for k, v := range m {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		out[k] = b
	}
	return out
}

func TestParseMissingAndFlags(t *testing.T) {
	form := Default().FormFor([]string{"neurotoxin", "glp1"})
	answers, err := form.Parse(raw(t, map[string]any{"pregnant": false, "allergies": true, "mtc_men2": true}))
	if err != nil {
		t.Fatal(err)
	}
	if got := form.FirstMissing(answers); got != "answers.breastfeeding" {
		t.Fatalf("first missing = %q", got)
	}
	flags := form.Flags(answers)
	codes := []string{}
	for _, f := range flags {
		codes = append(codes, f.Code)
	}
	if !slices.Equal(codes, []string{"allergy", "mtc_men2"}) {
		t.Fatalf("flags = %v", codes)
	}
	// allergy_details is enabled by allergies=true, so it becomes required.
	all := map[string]any{}
	for _, it := range form.items {
		switch it.Type {
		case TypeBoolean:
			all[it.LinkID] = false
		case TypeText, TypeString:
			all[it.LinkID] = "none"
		case TypeDecimal:
			all[it.LinkID] = 150.5
		}
	}
	all["allergies"] = true
	delete(all, "allergy_details")
	a, err := form.Parse(raw(t, all))
	if err != nil {
		t.Fatal(err)
	}
	if got := form.FirstMissing(a); got != "answers.allergy_details" {
		t.Fatalf("enableWhen-required item: got %q", got)
	}
}

func TestParseRejects(t *testing.T) {
	form := Default().FormFor([]string{"testosterone"})
	for name, in := range map[string]map[string]any{
		"unknown linkId": {"favourite_colour": "blue"},
		"wrong type":     {"pregnant": "no"},
		"bad date":       {"recent_labs": "2026-13-40"},
		"too long":       {"medications": string(make([]byte, 5000))},
	} {
		_, err := form.Parse(raw(t, in))
		if !errors.Is(err, fault.ErrInvalid) {
			t.Errorf("%s: got %v, want ErrInvalid", name, err)
		}
	}
}
