package routing

import (
	"container/heap"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/goodfaith/goodfaith/internal/directory"
	"github.com/goodfaith/goodfaith/internal/rules"
)

// The routing simulation: Poisson arrivals across states with skewed
// demand, a provider pool whose home states do not match demand and of
// whom many hold licences in other states too, exponential review times.
// Two policies serve the same arrivals:
//   - union: the product's routing — an arriving exam goes to the idle
//     eligible provider Index.Choose picks; a provider who finishes takes
//     the oldest exam of the union of the queues they are eligible for;
//   - fifo: naive per-state FIFO — each provider works only their home
//     state's queue, first come first served.

type simConfig struct {
	states          []string
	demand          []float64 // share of arrivals per state
	providers       int
	extraLicences   int // up to this many licences beyond the home state
	arrivalsPerHour float64
	meanReview      time.Duration
	exams           int
	seed            uint64
	// homeByDemand: home states follow demand (a well-staffed pool);
	// otherwise they are spread evenly (supply not matching demand).
	homeByDemand bool
}

type simResult struct {
	meanWait, p95Wait time.Duration
	utilisation       float64 // busy time / (providers × time to the last completion)
}

type simExam struct {
	state   string
	arrival float64 // minutes
	review  float64
}

type simProvider struct {
	p      directory.Provider
	home   string
	states []string
	busy   bool
}

type completion struct {
	at       float64
	provider int
}

type completions []completion

func (c completions) Len() int           { return len(c) }
func (c completions) Less(i, j int) bool { return c[i].at < c[j].at }
func (c completions) Swap(i, j int)      { c[i], c[j] = c[j], c[i] }
func (c *completions) Push(x any)        { *c = append(*c, x.(completion)) }
func (c *completions) Pop() any {
	old := *c
	x := old[len(old)-1]
	*c = old[:len(old)-1]
	return x
}

func simWorld(cfg simConfig) ([]simExam, []simProvider) {
	rng := rand.New(rand.NewPCG(cfg.seed, 99))
	pick := func() string {
		u := rng.Float64()
		for i, w := range cfg.demand {
			if u < w {
				return cfg.states[i]
			}
			u -= w
		}
		return cfg.states[len(cfg.states)-1]
	}
	exams := make([]simExam, cfg.exams)
	t := 0.0
	for i := range exams {
		t += rng.ExpFloat64() * 60 / cfg.arrivalsPerHour
		exams[i] = simExam{state: pick(), arrival: t, review: rng.ExpFloat64() * cfg.meanReview.Minutes()}
	}
	provs := make([]simProvider, cfg.providers)
	for i := range provs {
		home := cfg.states[i%len(cfg.states)]
		if cfg.homeByDemand {
			home = byShare(cfg.states, cfg.demand, (float64(i)+0.5)/float64(cfg.providers))
		}
		states := []string{home}
		for range rng.IntN(cfg.extraLicences + 1) {
			if s := cfg.states[rng.IntN(len(cfg.states))]; !slices.Contains(states, s) {
				states = append(states, s)
			}
		}
		p := directory.Provider{ID: fmt.Sprintf("sim_%03d", i), Categories: []string{"neurotoxin"}}
		for _, s := range states {
			p.Licenses = append(p.Licenses, directory.License{State: s, Type: rules.MD, Expires: "2099-01-01"})
		}
		provs[i] = simProvider{p: p, home: home, states: states}
	}
	return exams, provs
}

// byShare returns the state whose cumulative share covers u in [0,1).
func byShare(states []string, share []float64, u float64) string {
	for i, w := range share {
		if u < w {
			return states[i]
		}
		u -= w
	}
	return states[len(states)-1]
}

func simulate(cfg simConfig, union bool) simResult {
	rs := rules.Default()
	exams, provs := simWorld(cfg)
	byID := map[string]int{}
	dir := make([]directory.Provider, len(provs))
	for i, p := range provs {
		byID[p.p.ID] = i
		dir[i] = p.p
	}
	ix := NewIndex(dir, day)
	reqs := map[string]Request{}
	for _, st := range cfg.states {
		rule, err := rs.ForExam(st, []string{"neurotoxin"}, day)
		if err != nil {
			panic(err)
		}
		reqs[st] = Request{State: st, Categories: []string{"neurotoxin"}, Rule: rule, Modality: rules.Async}
	}
	live := func(id string) Live { return Live{Online: true, Claims: map[bool]int{true: 1}[provs[byID[id]].busy]} }
	queues := map[string][]int{} // state → exam indexes, oldest first
	waits := make([]float64, 0, len(exams))
	busy, end := 0.0, 0.0
	var done completions
	start := func(p, e int, now float64) {
		provs[p].busy = true
		waits = append(waits, now-exams[e].arrival)
		busy += exams[e].review
		heap.Push(&done, completion{at: now + exams[e].review, provider: p})
	}
	next := 0
	for next < len(exams) || done.Len() > 0 {
		if next < len(exams) && (done.Len() == 0 || exams[next].arrival <= done[0].at) {
			e := exams[next]
			next++
			p := -1
			if union {
				if c, ok := ix.Choose(reqs[e.state], live, 1); ok {
					p = byID[c.ProviderID]
				}
			} else {
				for i := range provs {
					if !provs[i].busy && provs[i].home == e.state {
						p = i
						break
					}
				}
			}
			if p >= 0 {
				start(p, next-1, e.arrival)
			} else {
				queues[e.state] = append(queues[e.state], next-1)
			}
			continue
		}
		c := heap.Pop(&done).(completion)
		end = max(end, c.at)
		provs[c.provider].busy = false
		from := []string{provs[c.provider].home}
		if union {
			from = provs[c.provider].states
		}
		best := ""
		for _, st := range from {
			if q := queues[st]; len(q) > 0 && (best == "" || exams[q[0]].arrival < exams[queues[best][0]].arrival) {
				best = st
			}
		}
		if best != "" {
			e := queues[best][0]
			queues[best] = queues[best][1:]
			start(c.provider, e, c.at)
		}
	}
	slices.Sort(waits)
	sum := 0.0
	for _, w := range waits {
		sum += w
	}
	minutes := func(m float64) time.Duration { return time.Duration(m * float64(time.Minute)) }
	return simResult{
		meanWait:    minutes(sum / float64(len(waits))),
		p95Wait:     minutes(waits[int(math.Ceil(0.95*float64(len(waits))))-1]),
		utilisation: busy / (float64(len(provs)) * end),
	}
}

var simDefault = simConfig{
	states:          []string{"TX", "FL", "CA", "NY", "OH"},
	demand:          []float64{0.35, 0.25, 0.20, 0.10, 0.10},
	providers:       20,
	extraLicences:   2,
	arrivalsPerHour: 96, // 80% of the pool's capacity of 120 reviews an hour
	meanReview:      10 * time.Minute,
	exams:           20000,
	seed:            42,
}

// TestSimulationUnionServesEveryExamAndBeatsPerStateFIFO checks the
// simulation is sound (every exam served once) and that routing on the
// union of eligible queues waits less than per-state FIFO on the same
// arrivals.
func TestSimulationUnionServesEveryExamAndBeatsPerStateFIFO(t *testing.T) {
	cfg := simDefault
	cfg.exams = 4000
	for _, matched := range []bool{false, true} {
		cfg.homeByDemand = matched
		u, f := simulate(cfg, true), simulate(cfg, false)
		checkSim(t, u, f)
	}
}

func checkSim(t *testing.T, u, f simResult) {
	t.Helper()
	if u.utilisation <= 0 || u.utilisation > 1 || f.utilisation <= 0 || f.utilisation > 1 {
		t.Fatalf("utilisation out of range: union %v, fifo %v", u.utilisation, f.utilisation)
	}
	if u.meanWait >= f.meanWait || u.p95Wait >= f.p95Wait {
		t.Fatalf("union %+v is not better than per-state FIFO %+v", u, f)
	}
}

// BenchmarkRoutingSimulation reports mean and p95 wait (minutes of
// simulated time) and provider utilisation for the product's routing and
// for naive per-state FIFO on the same 20,000 Poisson arrivals, with a
// pool spread evenly over states (unmatched) and one staffed in
// proportion to demand (matched).
func BenchmarkRoutingSimulation(b *testing.B) {
	for _, matched := range []bool{false, true} {
		cfg := simDefault
		cfg.homeByDemand = matched
		b.Run(map[bool]string{false: "unmatched", true: "matched"}[matched], func(b *testing.B) { benchSim(b, cfg) })
	}
}

func benchSim(b *testing.B, cfg simConfig) {
	var u, f simResult
	for i := 0; i < b.N; i++ {
		u = simulate(cfg, true)
		f = simulate(cfg, false)
	}
	b.ReportMetric(u.meanWait.Minutes(), "union-mean-wait-min")
	b.ReportMetric(u.p95Wait.Minutes(), "union-p95-wait-min")
	b.ReportMetric(100*u.utilisation, "union-util-%")
	b.ReportMetric(f.meanWait.Minutes(), "fifo-mean-wait-min")
	b.ReportMetric(f.p95Wait.Minutes(), "fifo-p95-wait-min")
	b.ReportMetric(100*f.utilisation, "fifo-util-%")
}
