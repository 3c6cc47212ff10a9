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
	Offline                 Refusal = "not online, and a video exam needs the provider present"
	ClaimLimitReached       Refusal = "already holds the most exams a provider may hold at once"
)

// DefaultClaimLimit is how many exams a provider may hold at once.
const DefaultClaimLimit = 3

// Live is what changes minute to minute about a provider: whether their
// console is online and how many exams they hold.
type Live struct {
	Online bool
	Claims int
}

// Request is what an exam asks of its provider.
type Request struct {
	State      string
	Categories []string
	Modality   rules.Modality
	Rule       rules.Exam
}

// CheckLive is Check plus the live conditions: a video exam needs the
// provider online, and a provider at limit claims takes no more.
func CheckLive(p directory.Provider, req Request, live Live, limit int, now time.Time) Refusal {
	if r := Check(p, req.State, req.Categories, req.Rule, now); r != Eligible {
		return r
	}
	if req.Modality == rules.Video && !live.Online {
		return Offline
	}
	if live.Claims >= limit {
		return ClaimLimitReached
	}
	return Eligible
}

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
