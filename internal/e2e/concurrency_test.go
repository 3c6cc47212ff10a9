package e2e

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/goodfaith/goodfaith/internal/store"
)

// race runs n copies of call at once and counts the statuses.
func race(n int, call func() res) map[int]int {
	var mu sync.Mutex
	counts := map[int]int{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r := call()
			mu.Lock()
			counts[r.Status]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	return counts
}

func TestConcurrentClaimsAndDecisions(t *testing.T) {
	forEachHome(t, func(t *testing.T, open func(testing.TB, bool) *env) {
		e := open(t, false)
		id, _ := e.queued()
		md, np := bearer(e.providerToken("prov_tx_md")), bearer(e.providerToken("prov_tx_np"))
		// Two eligible providers, twenty attempts, one claim.
		var n atomic.Int32
		counts := race(20, func() res {
			h := md
			if n.Add(1)%2 == 0 {
				h = np
			}
			return e.do("POST", "/v1/provider/exams/"+id+"/claim", h, nil)
		})
		if counts[200] != 1 || counts[409] != 19 {
			t.Fatalf("claims: %v", counts)
		}
		holder := md
		if e.do("GET", "/v1/provider/exams/"+id, md, nil).Status != 200 {
			holder = np
		}
		decision := map[string]any{"outcome": "denied", "reason": "Neuromuscular disease reported."}
		if holder["Authorization"] == md["Authorization"] {
			decision = approval
		}
		counts = race(20, func() res { return e.do("POST", "/v1/provider/exams/"+id+"/decision", holder, decision) })
		ok := counts[200] + counts[201]
		if ok != 1 || counts[409] != 19 {
			t.Fatalf("decisions: %v", counts)
		}
		// Exactly one PSO index record exists when the winner approved.
		page, err := e.Store.Query(t.Context(), store.Query{Index: store.ByGSI1, PK: "CLINIC#clinic_a#PSOS"})
		if err != nil {
			t.Fatal(err)
		}
		if want := counts[201]; len(page.Items) != want {
			t.Fatalf("%d PSO records, want %d", len(page.Items), want)
		}
	})
}

func TestIdempotencyKey(t *testing.T) {
	forEachHome(t, func(t *testing.T, open func(testing.TB, bool) *env) {
		e := open(t, false)
		h := widget(pkA)
		h["Idempotency-Key"] = "create-1"
		first := e.must(201, e.do("POST", "/v1/exams", h, patientBody("TX", "neurotoxin")))
		again := e.must(201, e.do("POST", "/v1/exams", h, patientBody("TX", "neurotoxin")))
		if string(first.Body) != string(again.Body) {
			t.Fatalf("a repeat returned another body:\n%s\n%s", first.Body, again.Body)
		}
		// The same key with another body is refused.
		if r := e.do("POST", "/v1/exams", h, patientBody("TX", "dermal_filler")); r.Status != 422 || r.errorCode(t) != "idempotency_key_reused" {
			t.Fatalf("key reuse: %d %s", r.Status, r.Body)
		}
		// Ten repeats at once create one exam.
		h["Idempotency-Key"] = "create-2"
		counts := race(10, func() res { return e.do("POST", "/v1/exams", h, patientBody("TX", "neurotoxin")) })
		if counts[201] != 10 {
			t.Fatalf("concurrent repeats: %v", counts)
		}
		list := e.must(200, e.do("GET", "/v1/clinic/exams", bearer(skA), nil)).json(t)["items"].([]any)
		if len(list) != 2 {
			t.Fatalf("%d exams, want 2 (one per key)", len(list))
		}
		// A decision retried with its key answers the original 201, not 409.
		id, _ := e.queued()
		md := bearer(e.providerToken("prov_tx_md"))
		e.must(200, e.do("POST", "/v1/provider/exams/"+id+"/claim", md, nil))
		md["Idempotency-Key"] = "decide-" + id
		counts = race(10, func() res { return e.do("POST", "/v1/provider/exams/"+id+"/decision", md, approval) })
		if counts[201] != 10 {
			t.Fatalf("retried approvals: %v", counts)
		}
	})
}
