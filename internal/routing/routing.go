// Package routing decides which providers may take an exam: an active,
// unexpired licence in the patient's state of a type the rules allow to
// perform the exam, every requested treatment category credentialed, and a
// DEA registration in that state for controlled substances.
package routing

import (
	"slices"
	"time"

	"github.com/goodfaith/goodfaith/internal/directory"
	"github.com/goodfaith/goodfaith/internal/rules"
)

// Refusal says why a provider may not take an exam; empty means eligible.
type Refusal string

// Reasons a provider is not eligible.
const (
	Eligible                Refusal = ""
	NoLicenseInState        Refusal = "no active licence in the patient's state"
	LicenseTypeNotAllowed   Refusal = "licence type may not perform this exam in the patient's state"
	CategoryNotCredentialed Refusal = "not credentialed for a requested treatment"
	NoDEAInState            Refusal = "no DEA registration in the patient's state for a controlled substance"
)

// Check tells whether provider p may take an exam in state for categories
// under the combined rule, on day now.
func Check(p directory.Provider, state string, categories []string, rule rules.Exam, now time.Time) Refusal {
	allowedType := false
	licensed := false
	for _, l := range p.Licenses {
		if l.State != state || !l.ActiveOn(now) {
			continue
		}
		licensed = true
		if slices.Contains(rule.Performers, l.Type) {
			allowedType = true
		}
	}
	switch {
	case !licensed:
		return NoLicenseInState
	case !allowedType:
		return LicenseTypeNotAllowed
	}
	for _, c := range categories {
		if !slices.Contains(p.Categories, c) {
			return CategoryNotCredentialed
		}
	}
	if rule.RequiresDEAInState {
		if _, ok := p.DEAIn(state, now); !ok {
			return NoDEAInState
		}
	}
	return Eligible
}

// PerformingLicense returns the licence under which p performs an exam in
// state: the first active one of an allowed type.
func PerformingLicense(p directory.Provider, state string, rule rules.Exam, now time.Time) (directory.License, bool) {
	for _, l := range p.Licenses {
		if l.State == state && l.ActiveOn(now) && slices.Contains(rule.Performers, l.Type) {
			return l, true
		}
	}
	return directory.License{}, false
}
