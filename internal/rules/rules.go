package rules

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/goodfaith/goodfaith/internal/fault"
)

// LicenseType is a clinician's licence class.
type LicenseType string

// Licence classes named in the API.
const (
	MD LicenseType = "MD"
	DO LicenseType = "DO"
	NP LicenseType = "NP"
	PA LicenseType = "PA"
	RN LicenseType = "RN"
)

// Modality is how the exam is held.
type Modality string

// Modalities.
const (
	Async Modality = "async"
	Video Modality = "video"
)

// Source cites where a rule comes from; Confidence is H (primary text),
// M (secondary) or L (unverified).
type Source struct {
	Citation   string `json:"citation"`
	URL        string `json:"url"`
	Confidence string `json:"confidence"`
}

// entry is the shape shared by the default, state, category and
// state × category records of the data file. Empty fields inherit.
type entry struct {
	Name                      string           `json:"name,omitempty"`
	Known                     *bool            `json:"known,omitempty"`
	EffectiveFrom             string           `json:"effective_from,omitempty"`
	ReviewedOn                string           `json:"reviewed_on,omitempty"`
	Notes                     string           `json:"notes,omitempty"`
	Sources                   []Source         `json:"sources,omitempty"`
	Performers                []LicenseType    `json:"performers,omitempty"`
	ModalityNewPatient        string           `json:"modality_new_patient,omitempty"`
	AsyncRequires             []string         `json:"async_requires,omitempty"`
	TelehealthConsentRequired *bool            `json:"telehealth_consent_required,omitempty"`
	RetentionYears            int              `json:"retention_years,omitempty"`
	OrderValidityDays         int              `json:"order_validity_days,omitempty"`
	ControlledSchedule        string           `json:"controlled_schedule,omitempty"`
	RequiresDEAInState        *bool            `json:"requires_dea_in_state,omitempty"`
	TelemedicineWindow        *window          `json:"telemedicine_window,omitempty"`
	OutsideWindowReason       string           `json:"outside_window_reason,omitempty"`
	Blocked                   *bool            `json:"blocked,omitempty"`
	BlockedReason             string           `json:"blocked_reason,omitempty"`
	Treatments                map[string]entry `json:"treatments,omitempty"`
}

// window is a dated period in which telemedicine is allowed for a category
// (e.g. the DEA flexibilities for Schedule III); outside it the category is
// blocked for telehealth.
type window struct {
	From       string `json:"from"`
	Until      string `json:"until"`
	Citation   string `json:"citation"`
	URL        string `json:"url"`
	Confidence string `json:"confidence"`
}

type file struct {
	Version    string           `json:"version"`
	ReviewedOn string           `json:"reviewed_on"`
	Default    entry            `json:"default"`
	Categories map[string]entry `json:"categories"`
	States     map[string]entry `json:"states"`
}

//go:embed data/rules.json
var embedded []byte

// Set is a loaded rules file. It is immutable and safe for concurrent use.
type Set struct {
	load func() *file // the checked file; Default's is parsed on first use
}

// Default returns the rules shipped with this build. They are decoded on
// first use (or Preload), once per process: a Lambda function whose
// requests never consult the rules (the JWKS, signaling, webhooks) should
// not pay for them at every cold start. The package tests check them with
// Parse, which also resolves every state and category, so bad data fails
// the tests, not a request.
func Default() *Set { return &Set{load: embeddedFile} }

var embeddedFile = sync.OnceValue(func() *file {
	// Decoded only: resolving every state and category, as Parse does to
	// check a file, is the package tests' job for the embedded one
	// (TestEmbeddedRulesParse), not every cold start's.
	f, err := decode(embedded)
	if err != nil {
		panic("rules: embedded data is invalid: " + err.Error()) // caught by the package tests
	}
	return f
})

// data is the set's rules file.
func (s *Set) data() *file { return s.load() }

// Preload parses the set now, if it has not been, so that a caller that
// will consult it soon (the widget config) can do so in the background
// while it waits on other work.
func (s *Set) Preload() { s.load() }

// Parse loads and checks a rules file.
func Parse(data []byte) (*Set, error) {
	f, err := decode(data)
	if err != nil {
		return nil, err
	}
	s := &Set{load: func() *file { return f }}
	for state := range f.States {
		for cat := range f.Categories {
			if _, err := s.Resolve(state, cat, time.Now()); err != nil && !isBlocked(err) {
				return nil, fmt.Errorf("rules: %s/%s: %w", state, cat, err)
			}
		}
	}
	return s, nil
}

// decode reads a rules file and checks its shape and provenance.
func decode(data []byte) (*file, error) {
	var f file
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	if f.Version == "" || len(f.States) == 0 || len(f.Categories) == 0 {
		return nil, fmt.Errorf("rules: version, states and categories are required")
	}
	for code, st := range f.States {
		if err := checkProvenance(code, st); err != nil {
			return nil, err
		}
	}
	return &f, nil
}

// checkProvenance requires every state entry to say whether its law is
// encoded, since when it applies, when it was last reviewed and where it
// comes from.
func checkProvenance(code string, st entry) error {
	if st.Known == nil {
		return fmt.Errorf("rules: %s: known is required (false: the strict default applies)", code)
	}
	for name, d := range map[string]string{"effective_from": st.EffectiveFrom, "reviewed_on": st.ReviewedOn} {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			return fmt.Errorf("rules: %s: %s %q is not YYYY-MM-DD", code, name, d)
		}
	}
	if len(st.Sources) == 0 {
		return fmt.Errorf("rules: %s: at least one source is required", code)
	}
	for _, src := range st.Sources {
		if src.Citation == "" || !slices.Contains([]string{"H", "M", "L"}, src.Confidence) {
			return fmt.Errorf("rules: %s: every source needs a citation and a confidence of H, M or L", code)
		}
	}
	return nil
}

func isBlocked(err error) bool {
	var fe *fault.Error
	return errors.As(err, &fe) && fe.Code == "treatment_blocked"
}

// Version is the data file's version.
func (s *Set) Version() string { return s.data().Version }

// States lists the state codes the file covers, sorted.
func (s *Set) States() []string {
	out := make([]string, 0, len(s.data().States))
	for k := range s.data().States {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Categories lists the treatment categories, sorted.
func (s *Set) Categories() []string {
	out := make([]string, 0, len(s.data().Categories))
	for k := range s.data().Categories {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// CategoryName is the human name of a category.
func (s *Set) CategoryName(category string) string { return s.data().Categories[category].Name }

// KnownState reports whether code is a state the file covers.
func (s *Set) KnownState(code string) bool { _, ok := s.data().States[code]; return ok }

// KnownCategory reports whether c is a treatment category.
func (s *Set) KnownCategory(c string) bool { _, ok := s.data().Categories[c]; return ok }

// Rule is the resolved rule for one state, category and date.
type Rule struct {
	State      string
	Category   string
	LawEncoded bool // false: the strict default applies
	Performers []LicenseType
	Modalities []Modality // allowed for a new patient, video first
	// AsyncRequiresPhotos: an asynchronous exam must carry photos for the
	// provider to review (a questionnaire alone is not an exam).
	AsyncRequiresPhotos       bool
	TelehealthConsentRequired bool
	ControlledSchedule        string
	RequiresDEAInState        bool
	OrderValidityDays         int
	RetentionYears            int
	Notes                     []string
	Sources                   []Source
	// ClinicTightened: a clinic override narrowed this rule.
	ClinicTightened bool
}

// Resolve returns the rule for state and category on the given date. It
// fails with fault.ErrInvalid: state_not_served for an unknown state,
// treatment_unknown for an unknown category, treatment_blocked when the
// category may not be examined by telehealth there on that date.
func (s *Set) Resolve(state, category string, on time.Time) (Rule, error) {
	st, ok := s.data().States[state]
	if !ok {
		return Rule{}, fault.Invalid("state_not_served", "patient.state", fmt.Sprintf("%q is not a US state we serve", state))
	}
	cat, ok := s.data().Categories[category]
	if !ok {
		return Rule{}, fault.Invalid("treatment_unknown", "treatments", fmt.Sprintf("%q is not a treatment category", category))
	}
	layers := []entry{s.data().Default, cat, st, st.Treatments[category]}
	r := Rule{State: state, Category: category, LawEncoded: st.Known != nil && *st.Known}
	if from, err := time.Parse(time.DateOnly, st.EffectiveFrom); err != nil || on.UTC().Before(from) {
		// Before the state's encoded law takes effect, the strict default
		// holds (its sources still say why).
		layers = []entry{s.data().Default, cat, {Sources: st.Sources}}
		r.LawEncoded = false
	}
	var modality string
	var blocked bool
	var blockedReason string
	for _, e := range layers {
		if len(e.Performers) > 0 {
			r.Performers = e.Performers
		}
		if e.ModalityNewPatient != "" {
			modality = e.ModalityNewPatient
		}
		if len(e.AsyncRequires) > 0 {
			r.AsyncRequiresPhotos = slices.Contains(e.AsyncRequires, "photos")
		}
		if e.TelehealthConsentRequired != nil {
			r.TelehealthConsentRequired = *e.TelehealthConsentRequired
		}
		if e.ControlledSchedule != "" {
			r.ControlledSchedule = e.ControlledSchedule
		}
		if e.RequiresDEAInState != nil {
			r.RequiresDEAInState = *e.RequiresDEAInState
		}
		if e.OrderValidityDays > 0 {
			r.OrderValidityDays = e.OrderValidityDays
		}
		if e.RetentionYears > 0 {
			r.RetentionYears = e.RetentionYears
		}
		if e.Notes != "" {
			r.Notes = append(r.Notes, e.Notes)
		}
		r.Sources = append(r.Sources, e.Sources...)
		if e.TelemedicineWindow != nil && !inWindow(*e.TelemedicineWindow, on) {
			blocked, blockedReason = true, e.OutsideWindowReason
		}
		if e.Blocked != nil && *e.Blocked {
			blocked, blockedReason = true, e.BlockedReason
		}
	}
	// State law replaces the default, but a federal category requirement
	// (e.g. video for controlled substances) tightens whatever the state
	// allows.
	modality = stricterModality(modality, cat.ModalityNewPatient)
	if len(r.Performers) == 0 {
		return Rule{}, fmt.Errorf("rules: no performers for %s/%s", state, category)
	}
	switch modality {
	case "video":
		r.Modalities = []Modality{Video}
	case "video_or_async":
		r.Modalities = []Modality{Video, Async}
	case "async":
		r.Modalities = []Modality{Async}
	default:
		return Rule{}, fmt.Errorf("rules: no modality for %s/%s", state, category)
	}
	if blocked {
		return r, &fault.Error{Kind: fault.ErrInvalid, Code: "treatment_blocked", Field: "treatments",
			Message: fmt.Sprintf("%s cannot be examined by telehealth in %s on %s: %s", s.CategoryName(category), state, on.Format(time.DateOnly), blockedReason),
			Details: map[string]any{"blocked_by": "law"}}
	}
	return r, nil
}

// modalityRank orders modality requirements from least to most strict.
var modalityRank = map[string]int{"": 0, "async": 1, "video_or_async": 2, "video": 3}

// stricterModality keeps the stricter of two requirements.
func stricterModality(current, next string) string {
	if next == "" {
		return current
	}
	if current == "" {
		return next
	}
	if modalityRank[next] > modalityRank[current] {
		return next
	}
	return current
}

func inWindow(w window, on time.Time) bool {
	from, err1 := time.Parse(time.DateOnly, w.From)
	until, err2 := time.Parse(time.DateOnly, w.Until)
	if err1 != nil || err2 != nil {
		return false // an unreadable window never opens: strict
	}
	day := on.UTC().Truncate(24 * time.Hour)
	return !day.Before(from) && !day.After(until)
}

// Exam is the combined rule for an exam asking for several categories in
// one state: the intersection of who may perform and how, the union of
// what async needs, and the shortest order validity.
type Exam struct {
	State                     string
	Performers                []LicenseType
	Modalities                []Modality
	AsyncRequiresPhotos       bool
	TelehealthConsentRequired bool
	OrderValidityDays         int
	RetentionYears            int
	Controlled                []string // categories that are controlled substances
	RequiresDEAInState        bool
	PerCategory               map[string]Rule
}

// ForExam resolves every category and combines them. It fails like Resolve,
// and with modality_unavailable when the categories have no modality or no
// performer in common.
func (s *Set) ForExam(state string, categories []string, on time.Time) (Exam, error) {
	return s.ForClinicExam(state, categories, on, nil)
}

// ForClinicExam is ForExam tightened by a clinic's overrides.
func (s *Set) ForClinicExam(state string, categories []string, on time.Time, ovs Overrides) (Exam, error) {
	if len(categories) == 0 {
		return Exam{}, fault.Invalid("treatments_required", "treatments", "choose at least one treatment")
	}
	ex := Exam{State: state, PerCategory: map[string]Rule{}}
	for i, c := range categories {
		r, err := s.Resolve(state, c, on)
		if err == nil {
			r, err = ovs.Apply(r)
		}
		if err != nil {
			return Exam{}, err
		}
		ex.PerCategory[c] = r
		if i == 0 {
			ex.Performers = slices.Clone(r.Performers)
			ex.Modalities = slices.Clone(r.Modalities)
			ex.OrderValidityDays = r.OrderValidityDays
			ex.RetentionYears = r.RetentionYears
		} else {
			ex.Performers = intersect(ex.Performers, r.Performers)
			ex.Modalities = intersect(ex.Modalities, r.Modalities)
			ex.OrderValidityDays = min(ex.OrderValidityDays, r.OrderValidityDays)
			ex.RetentionYears = max(ex.RetentionYears, r.RetentionYears)
		}
		ex.AsyncRequiresPhotos = ex.AsyncRequiresPhotos || r.AsyncRequiresPhotos
		ex.TelehealthConsentRequired = ex.TelehealthConsentRequired || r.TelehealthConsentRequired
		ex.RequiresDEAInState = ex.RequiresDEAInState || r.RequiresDEAInState
		if r.ControlledSchedule != "" {
			ex.Controlled = append(ex.Controlled, c)
		}
	}
	if len(ex.Modalities) == 0 || len(ex.Performers) == 0 {
		return Exam{}, fault.Invalid("treatments_incompatible", "treatments", "these treatments cannot be examined together in one exam in "+state)
	}
	return ex, nil
}

// Allows reports whether modality m is allowed.
func (e Exam) Allows(m Modality) bool { return slices.Contains(e.Modalities, m) }

func intersect[T comparable](a, b []T) []T {
	var out []T
	for _, x := range a {
		if slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}
