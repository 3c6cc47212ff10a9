package e2e

import (
	"sort"
	"sync"
	"testing"
	"time"
)

// timing collects request latencies per route.
type timing struct {
	mu  sync.Mutex
	per map[string][]time.Duration
}

func (tm *timing) add(route string, d time.Duration) {
	tm.mu.Lock()
	tm.per[route] = append(tm.per[route], d)
	tm.mu.Unlock()
}

func quantile(ds []time.Duration, q float64) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[int(q*float64(len(s)-1))]
}

// BenchmarkAsyncLifecycle runs the whole asynchronous exam over HTTP on the
// embedded store: create, photo, intake, submit, queue, claim, read,
// approve (sign and store the PSO), clinic read. It reports exams/s and the
// p50/p99 of each request.
func BenchmarkAsyncLifecycle(b *testing.B) {
	e := openEmbedded(b, true)
	md := bearer(e.providerToken("prov_tx_md"))
	tm := &timing{per: map[string][]time.Duration{}}
	timed := func(route string, want int, method, path string, h hdr, body any) res {
		start := time.Now()
		r := e.must(want, e.do(method, path, h, body))
		tm.add(route, time.Since(start))
		return r
	}
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		r := timed("create", 201, "POST", "/v1/exams", widget(pkA), patientBody("TX", "neurotoxin")).json(b)
		id, tok := r["exam"].(map[string]any)["id"].(string), r["patient_token"].(string)
		photo := e.uploadPhoto(id, tok)
		timed("intake", 200, "PUT", "/v1/exams/"+id+"/intake", bearer(tok), map[string]any{
			"answers": neurotoxinAnswers(photo), "consents": map[string]bool{"telehealth": true, "privacy": true},
		})
		timed("submit", 202, "POST", "/v1/exams/"+id+"/submit", bearer(tok), nil)
		timed("queue", 200, "GET", "/v1/provider/queue", md, nil)
		timed("claim", 200, "POST", "/v1/provider/exams/"+id+"/claim", md, nil)
		timed("provider-read", 200, "GET", "/v1/provider/exams/"+id, md, nil)
		timed("approve+pso", 201, "POST", "/v1/provider/exams/"+id+"/decision", md, approval)
		timed("clinic-read", 200, "GET", "/v1/clinic/exams/"+id, bearer(skA), nil)
		timed("patient-read", 200, "GET", "/v1/exams/"+id, bearer(tok), nil)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "exams/s")
	for route, ds := range tm.per {
		b.ReportMetric(float64(quantile(ds, 0.5).Microseconds())/1000, "ms-p50:"+route)
		b.ReportMetric(float64(quantile(ds, 0.99).Microseconds())/1000, "ms-p99:"+route)
	}
}
