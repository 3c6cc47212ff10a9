package rules

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/goodfaith/goodfaith/internal/fault"
)

// Any matches every state or every treatment in an override.
const Any = "*"

// MaxOverrides bounds a clinic's override list.
const MaxOverrides = 200

// Override is one tightening a clinic's medical director applies on top of
// the law: in State (or Any) for Treatment (or Any), only the listed
// Modalities and licence types (Performers) are accepted, or the treatment
// is Blocked there altogether. Empty lists leave that part of the rule as
// the law has it. The effective rule is always the intersection of the law
// and the override, so a later change of the law can only make it stricter.
type Override struct {
	State      string        `json:"state"`
	Treatment  string        `json:"treatment"`
	Modalities []Modality    `json:"modalities,omitempty"`
	Performers []LicenseType `json:"performers,omitempty"`
	Blocked    bool          `json:"blocked,omitempty"`
	Reason     string        `json:"reason,omitempty"`
}

// Overrides is a clinic's list, applied in order (all that match apply).
type Overrides []Override

func (o Override) matches(state, category string) bool {
	return (o.State == Any || o.State == state) && (o.Treatment == Any || o.Treatment == category)
}

// Validate checks a clinic's overrides against the law on day on. It
// refuses, with fault.ErrInvalid, unknown states, treatments, modalities and
// licence types, and any override that would loosen a rule:
//   - a row naming one state and one treatment may list only modalities
//     and licence types the law allows there;
//   - a wildcard row may list only values the law allows somewhere it
//     applies (a value allowed nowhere, such as RN, or async where every
//     matching state requires video, is a loosening). Where it lists
//     nothing the law allows, the treatment is blocked there (Apply).
//
// Field paths are "rules[i].field".
func (s *Set) Validate(ovs Overrides, on time.Time) error {
	if len(ovs) > MaxOverrides {
		return fault.Invalid("too_many", "rules", fmt.Sprintf("at most %d overrides", MaxOverrides))
	}
	for i, o := range ovs {
		field := func(f string) string { return fmt.Sprintf("rules[%d].%s", i, f) }
		if o.State != Any && !s.KnownState(o.State) {
			return fault.Invalid("state_unknown", field("state"), fmt.Sprintf("%q is not a US state code or %q", o.State, Any))
		}
		if o.Treatment != Any && !s.KnownCategory(o.Treatment) {
			return fault.Invalid("treatment_unknown", field("treatment"), fmt.Sprintf("%q is not a treatment category or %q", o.Treatment, Any))
		}
		if len(o.Reason) > 500 {
			return fault.Invalid("too_long", field("reason"), "at most 500 characters")
		}
		for _, m := range o.Modalities {
			if m != Video && m != Async {
				return fault.Invalid("invalid_modality", field("modalities"), `modalities are "video" and "async"`)
			}
		}
		for _, p := range o.Performers {
			if !slices.Contains([]LicenseType{MD, DO, NP, PA, RN}, p) {
				return fault.Invalid("invalid_license_type", field("performers"), fmt.Sprintf("%q is not a licence type (MD, DO, NP, PA, RN)", p))
			}
		}
		if o.Blocked && (len(o.Modalities) > 0 || len(o.Performers) > 0) {
			return fault.Invalid("override_ambiguous", field("blocked"), "a blocked row lists no modalities or performers")
		}
		if !o.Blocked && len(o.Modalities) == 0 && len(o.Performers) == 0 {
			return fault.Invalid("override_empty", field("state"), "an override blocks, or lists the modalities or performers it accepts")
		}
		if err := s.checkTightens(o, on, field); err != nil {
			return err
		}
	}
	return nil
}

// checkTightens refuses a row that would allow what the law does not.
func (s *Set) checkTightens(o Override, on time.Time, field func(string) string) error {
	specific := o.State != Any && o.Treatment != Any
	lawModalities := map[Modality]bool{}
	lawPerformers := map[LicenseType]bool{}
	covered := 0
	for _, st := range s.States() {
		for _, c := range s.Categories() {
			if !o.matches(st, c) {
				continue
			}
			r, err := s.Resolve(st, c, on)
			if err != nil {
				continue // blocked by law already: nothing to loosen or tighten
			}
			covered++
			for _, m := range r.Modalities {
				lawModalities[m] = true
			}
			for _, p := range r.Performers {
				lawPerformers[p] = true
			}
			if !specific || o.Blocked {
				continue
			}
			if m, ok := firstOutside(o.Modalities, r.Modalities); ok {
				return loosens(field("modalities"), fmt.Sprintf("%s allows %s for %s only by %s; a clinic may tighten, never loosen", st, s.CategoryName(c), join(r.Modalities), m))
			}
			if p, ok := firstOutside(o.Performers, r.Performers); ok {
				return loosens(field("performers"), fmt.Sprintf("in %s only %s may perform the exam for %s, not %s; a clinic may tighten, never loosen", st, join(r.Performers), s.CategoryName(c), p))
			}
		}
	}
	if o.Blocked || covered == 0 || specific {
		return nil
	}
	for _, m := range o.Modalities {
		if !lawModalities[m] {
			return loosens(field("modalities"), fmt.Sprintf("no state and treatment this override covers allows %s; a clinic may tighten, never loosen", m))
		}
	}
	for _, p := range o.Performers {
		if !lawPerformers[p] {
			return loosens(field("performers"), fmt.Sprintf("%s may perform the exam nowhere this override covers; a clinic may tighten, never loosen", p))
		}
	}
	return nil
}

func loosens(field, msg string) error { return fault.Invalid("override_loosens_rule", field, msg) }

// firstOutside returns the first value of want not in allowed.
func firstOutside[T comparable](want, allowed []T) (T, bool) {
	for _, w := range want {
		if !slices.Contains(allowed, w) {
			return w, true
		}
	}
	var zero T
	return zero, false
}

func join[T ~string](xs []T) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = string(x)
	}
	return strings.Join(s, ", ")
}

// Apply tightens a resolved rule by every matching override. It returns
// fault.ErrInvalid treatment_blocked when an override blocks the
// treatment, or when what remains is empty (the law changed under the
// override), naming the clinic's reason.
func (ovs Overrides) Apply(r Rule) (Rule, error) {
	for _, o := range ovs {
		if !o.matches(r.State, r.Category) {
			continue
		}
		if o.Blocked {
			return r, clinicBlocked(r, o.Reason)
		}
		if len(o.Modalities) > 0 {
			r.Modalities = intersect(r.Modalities, o.Modalities)
		}
		if len(o.Performers) > 0 {
			r.Performers = intersect(r.Performers, o.Performers)
		}
		if len(r.Modalities) == 0 || len(r.Performers) == 0 {
			return r, clinicBlocked(r, o.Reason)
		}
		r.ClinicTightened = true
	}
	return r, nil
}

func clinicBlocked(r Rule, reason string) error {
	msg := fmt.Sprintf("the clinic's medical director does not offer %s exams in %s", r.Category, r.State)
	if reason != "" {
		msg += ": " + reason
	}
	return &fault.Error{Kind: fault.ErrInvalid, Code: "treatment_blocked", Field: "treatments", Message: msg,
		Details: map[string]any{"blocked_by": "clinic"}}
}
