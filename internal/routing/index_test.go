package routing

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/goodfaith/goodfaith/internal/directory"
	"github.com/goodfaith/goodfaith/internal/rules"
)

var day = time.Date(2026, 11, 22, 15, 0, 0, 0, time.UTC)

// pool makes n providers with 1–4 licences across states (some expired,
// some RN), random categories and DEA registrations.
func pool(rng *rand.Rand, n int, states []string) []directory.Provider {
	cats := rules.Default().Categories()
	types := []rules.LicenseType{rules.MD, rules.DO, rules.NP, rules.PA, rules.RN}
	out := make([]directory.Provider, n)
	for i := range out {
		p := directory.Provider{ID: fmt.Sprintf("prov_%05d", i), Name: "P"}
		for range 1 + rng.IntN(4) {
			exp := "2028-01-31"
			if rng.IntN(10) == 0 {
				exp = "2026-11-21" // expired yesterday
			}
			st := states[rng.IntN(len(states))]
			p.Licenses = append(p.Licenses, directory.License{State: st, Type: types[rng.IntN(len(types))], Number: "L", Expires: exp})
			if rng.IntN(3) == 0 {
				p.DEARegistrations = append(p.DEARegistrations, directory.DEARegistration{State: st, Number: "D", Expires: exp})
			}
		}
		for _, c := range cats {
			if rng.IntN(2) == 0 {
				p.Categories = append(p.Categories, c)
			}
		}
		out[i] = p
	}
	return out
}

func randomLive(rng *rand.Rand, ps []directory.Provider) map[string]Live {
	m := map[string]Live{}
	for _, p := range ps {
		m[p.ID] = Live{Online: rng.IntN(2) == 0, Claims: rng.IntN(DefaultClaimLimit + 1)}
	}
	return m
}

// randomRequest draws an exam the rules allow (retrying blocked mixes).
func randomRequest(rng *rand.Rand, rs *rules.Set, states []string) Request {
	cats := rs.Categories()
	for {
		st := states[rng.IntN(len(states))]
		var want []string
		for len(want) == 0 {
			for _, c := range cats {
				if rng.IntN(4) == 0 {
					want = append(want, c)
				}
			}
		}
		rule, err := rs.ForExam(st, want, day)
		if err != nil {
			continue
		}
		return Request{State: st, Categories: want, Rule: rule, Modality: rule.Modalities[rng.IntN(len(rule.Modalities))]}
	}
}

// TestIndexOffersExactlyTheEligibleSet checks, over many providers across
// states with multi-state, expired and RN licences, offline providers and
// full claim limits, that the index offers each exam to exactly the
// providers CheckLive accepts.
func TestIndexOffersExactlyTheEligibleSet(t *testing.T) {
	rs := rules.Default()
	rng := rand.New(rand.NewPCG(1, 2))
	states := []string{"TX", "FL", "CA", "MD", "OH", "NY", "AZ", "WA"}
	ps := pool(rng, 600, states)
	live := randomLive(rng, ps)
	ix := NewIndex(ps, day)
	reasons := map[Refusal]int{}
	for range 300 {
		req := randomRequest(rng, rs, states)
		var want []string
		for _, p := range ps {
			r := CheckLive(p, req, live[p.ID], DefaultClaimLimit, day)
			reasons[r]++
			if r == Eligible {
				want = append(want, p.ID)
			}
		}
		var got []string
		for _, c := range ix.Eligible(req, func(id string) Live { return live[id] }, DefaultClaimLimit, false) {
			got = append(got, c.ProviderID)
		}
		sort.Strings(got)
		if !slices.Equal(got, want) {
			t.Fatalf("%+v: index offers %v, eligible %v", req, got, want)
		}
	}
	// The pool exercised every refusal, so the agreement above means something.
	for _, r := range []Refusal{Eligible, NoLicenseInState, LicenseTypeNotAllowed, CategoryNotCredentialed, NoDEAInState, Offline, ClaimLimitReached} {
		if reasons[r] == 0 {
			t.Errorf("no provider was refused for %q", r)
		}
	}
}

func TestRequireOnlineLeavesOutOfflineForAsync(t *testing.T) {
	rs := rules.Default()
	rule, _ := rs.ForExam("TX", []string{"neurotoxin"}, day)
	lic := []directory.License{{State: "TX", Type: rules.MD, Expires: "2028-01-01"}}
	ps := []directory.Provider{
		{ID: "on", Licenses: lic, Categories: []string{"neurotoxin"}},
		{ID: "off", Licenses: lic, Categories: []string{"neurotoxin"}},
	}
	live := func(id string) Live { return Live{Online: id == "on"} }
	ix := NewIndex(ps, day)
	req := Request{State: "TX", Categories: []string{"neurotoxin"}, Rule: rule, Modality: rules.Async}
	if got := ix.Eligible(req, live, DefaultClaimLimit, false); len(got) != 2 {
		t.Fatalf("async queue eligibility: %v, want both", got)
	}
	if got := ix.Eligible(req, live, DefaultClaimLimit, true); len(got) != 1 || got[0].ProviderID != "on" {
		t.Fatalf("online-only offer: %v", got)
	}
	req.Modality = rules.Video
	if got := ix.Eligible(req, live, DefaultClaimLimit, false); len(got) != 1 || got[0].ProviderID != "on" {
		t.Fatalf("video: %v", got)
	}
}

func TestChoosePrefersFewestClaimsThenScarcity(t *testing.T) {
	rs := rules.Default()
	rule, _ := rs.ForExam("TX", []string{"neurotoxin"}, day)
	tx := directory.License{State: "TX", Type: rules.MD, Expires: "2028-01-01"}
	fl := directory.License{State: "FL", Type: rules.MD, Expires: "2028-01-01"}
	ps := []directory.Provider{
		{ID: "a_multi", Licenses: []directory.License{tx, fl}, Categories: []string{"neurotoxin"}},
		{ID: "b_tx_busy", Licenses: []directory.License{tx}, Categories: []string{"neurotoxin"}},
		{ID: "c_tx", Licenses: []directory.License{tx}, Categories: []string{"neurotoxin"}},
	}
	claims := map[string]int{"b_tx_busy": 1}
	live := func(id string) Live { return Live{Online: true, Claims: claims[id]} }
	ix := NewIndex(ps, day)
	req := Request{State: "TX", Categories: []string{"neurotoxin"}, Rule: rule, Modality: rules.Async}
	c, ok := ix.Choose(req, live, DefaultClaimLimit)
	if !ok || c.ProviderID != "c_tx" {
		t.Fatalf("chose %+v; want the idle single-state provider", c)
	}
	order := ix.Eligible(req, live, DefaultClaimLimit, true)
	if len(order) != 3 || order[0].ProviderID != "c_tx" || order[1].ProviderID != "a_multi" || order[2].ProviderID != "b_tx_busy" {
		t.Fatalf("order %+v", order)
	}
	if _, ok := ix.Choose(Request{State: "NY", Categories: []string{"neurotoxin"}, Rule: rule}, live, DefaultClaimLimit); ok {
		t.Fatal("chose someone for a state nobody is licensed in")
	}
}

// BenchmarkEligibilityAndChoice10k times Eligible + Choose for one exam
// over 10,000 providers licensed across all 51 jurisdictions, reporting
// the p99 of single calls (target: under 1 ms).
func BenchmarkEligibilityAndChoice10k(b *testing.B) {
	rs := rules.Default()
	rng := rand.New(rand.NewPCG(7, 8))
	states := rs.States()
	ps := pool(rng, 10000, states)
	liveMap := randomLive(rng, ps)
	live := func(id string) Live { return liveMap[id] }
	ix := NewIndex(ps, day)
	reqs := make([]Request, 512)
	for i := range reqs {
		reqs[i] = randomRequest(rng, rs, states)
	}
	durations := make([]time.Duration, 0, b.N)
	offered := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := reqs[i%len(reqs)]
		start := time.Now()
		set := ix.Eligible(req, live, DefaultClaimLimit, true)
		if _, ok := ix.Choose(req, live, DefaultClaimLimit); ok {
			offered++
		}
		durations = append(durations, time.Since(start))
		offered += len(set)
	}
	b.StopTimer()
	slices.Sort(durations)
	p99 := durations[min(len(durations)-1, len(durations)*99/100)]
	b.ReportMetric(float64(p99.Microseconds()), "p99-µs")
	b.ReportMetric(float64(offered)/float64(b.N), "offered/op")
}
