package routing

import (
	"slices"
	"time"

	"github.com/goodfaith/goodfaith/internal/directory"
	"github.com/goodfaith/goodfaith/internal/rules"
)

// Index answers eligibility for many providers at once: each state lists
// the providers holding an active licence there on the index's day, with
// their licence types, categories and DEA states reduced to bit sets, so
// that checking an exam costs a few machine words per candidate. Licences
// expire by the day: build a new Index at least daily (the dispatcher
// builds one per batch). An Index is immutable and safe for concurrent use.
type Index struct {
	day       time.Time
	providers []indexed
	byState   map[string][]slot
	catBit    map[string]uint64
	// overflow: more categories than bits, so a bit match is confirmed
	// against the provider's list.
	overflow bool
}

// slot is one provider's standing in one state.
type slot struct {
	n     int32 // index in providers
	types uint8 // licence types active there (bit per type)
	dea   bool  // an active DEA registration there
}

type indexed struct {
	p          *directory.Provider
	id         string
	categories uint64
	states     int // states licensed in: a scarcity measure for choice
}

var typeBit = map[rules.LicenseType]uint8{rules.MD: 1, rules.DO: 2, rules.NP: 4, rules.PA: 8, rules.RN: 16}

// NewIndex indexes providers as of day now.
func NewIndex(providers []directory.Provider, now time.Time) *Index {
	ix := &Index{day: now, providers: make([]indexed, 0, len(providers)), byState: map[string][]slot{}, catBit: map[string]uint64{}}
	for i := range providers {
		p := &providers[i]
		in := indexed{p: p, id: p.ID}
		for _, c := range p.Categories {
			in.categories |= ix.bit(c)
		}
		types := map[string]uint8{}
		for _, l := range p.Licenses {
			if l.ActiveOn(now) {
				types[l.State] |= typeBit[l.Type]
			}
		}
		in.states = len(types)
		n := int32(len(ix.providers))
		ix.providers = append(ix.providers, in)
		for st, t := range types {
			_, dea := p.DEAIn(st, now)
			ix.byState[st] = append(ix.byState[st], slot{n: n, types: t, dea: dea})
		}
	}
	return ix
}

// bit numbers a category; categories beyond the 64th share the last bit
// and are confirmed by name.
func (ix *Index) bit(c string) uint64 {
	if b, ok := ix.catBit[c]; ok {
		return b
	}
	if len(ix.catBit) >= 63 {
		ix.overflow = true
	}
	b := uint64(1) << min(len(ix.catBit), 63)
	ix.catBit[c] = b
	return b
}

// Len is the number of providers indexed.
func (ix *Index) Len() int { return len(ix.providers) }

// LiveFunc reports a provider's live state; nil means everyone offline
// with no claims.
type LiveFunc func(providerID string) Live

// Candidate is an eligible provider and what choice weighs.
type Candidate struct {
	ProviderID string
	Live       Live
	States     int
}

// Eligible lists the providers who may take req now, in the order of
// choice (see Choose). With requireOnline, offline providers are left out
// whatever the modality (a first notification goes only to those online).
func (ix *Index) Eligible(req Request, live LiveFunc, limit int, requireOnline bool) []Candidate {
	var out []Candidate
	ix.each(req, live, limit, requireOnline, func(c Candidate) { out = append(out, c) })
	slices.SortFunc(out, better)
	return out
}

// Choose returns the eligible provider to offer req to first: the one
// holding the fewest claims, then the one licensed in the fewest states
// (keeping multi-state providers free for the states only they cover),
// then by id for a stable answer.
func (ix *Index) Choose(req Request, live LiveFunc, limit int) (Candidate, bool) {
	var best Candidate
	found := false
	ix.each(req, live, limit, false, func(c Candidate) {
		if !found || better(c, best) < 0 {
			best, found = c, true
		}
	})
	return best, found
}

func better(a, b Candidate) int {
	switch {
	case a.Live.Claims != b.Live.Claims:
		return a.Live.Claims - b.Live.Claims
	case a.States != b.States:
		return a.States - b.States
	case a.ProviderID < b.ProviderID:
		return -1
	case a.ProviderID > b.ProviderID:
		return 1
	}
	return 0
}

func (ix *Index) each(req Request, live LiveFunc, limit int, requireOnline bool, fn func(Candidate)) {
	var need uint64
	for _, c := range req.Categories {
		b, ok := ix.catBit[c]
		if !ok {
			return // nobody is credentialed for it
		}
		need |= b
	}
	var allowed uint8
	for _, t := range req.Rule.Performers {
		allowed |= typeBit[t]
	}
	for _, sl := range ix.byState[req.State] {
		if sl.types&allowed == 0 || req.Rule.RequiresDEAInState && !sl.dea {
			continue
		}
		in := &ix.providers[sl.n]
		if in.categories&need != need {
			continue
		}
		if ix.overflow && !containsAll(in.p.Categories, req.Categories) {
			continue
		}
		var l Live
		if live != nil {
			l = live(in.id)
		}
		if (requireOnline || req.Modality == rules.Video) && !l.Online {
			continue
		}
		if l.Claims >= limit {
			continue
		}
		fn(Candidate{ProviderID: in.id, Live: l, States: in.states})
	}
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}
