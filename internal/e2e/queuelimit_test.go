package e2e

import (
	"slices"
	"strconv"
	"testing"

	"github.com/goodfaith/goodfaith/internal/directory"
	"github.com/goodfaith/goodfaith/internal/rules"
)

// TestProviderQueueLimit: GET /v1/provider/queue?limit=N answers the first
// N items of the whole queue (oldest first, across the provider's states),
// without limit the whole queue as before; a limit that is not a number
// answers 400 and one out of 1 to 1000 answers 422, both naming the field.
func TestProviderQueueLimit(t *testing.T) {
	forEachHome(t, func(t *testing.T, open func(testing.TB, bool) *env) {
		e := open(t, false)
		for range 3 {
			e.queuedIn("TX", "async")
		}
		md := bearer(e.providerToken("prov_tx_md"))
		all := e.queueIDs("prov_tx_md")
		if len(all) < 3 {
			t.Fatalf("queue without limit: %v, want the 3 queued exams", all)
		}
		for _, n := range []int{1, 2, len(all), len(all) + 5} {
			items := e.must(200, e.do("GET", "/v1/provider/queue?limit="+strconv.Itoa(n), md, nil)).json(t)["items"].([]any)
			var ids []string
			for _, it := range items {
				ids = append(ids, it.(map[string]any)["exam_id"].(string))
			}
			if want := all[:min(n, len(all))]; !slices.Equal(ids, want) {
				t.Errorf("limit=%d: %v, want %v", n, ids, want)
			}
		}
		for bad, status := range map[string]int{"0": 422, "-1": 422, "1001": 422, "two": 400, "1.5": 400} {
			r := e.do("GET", "/v1/provider/queue?limit="+bad, md, nil)
			if r.Status != status || r.errorCode(t) != "invalid_limit" || r.errorField(t) != "limit" {
				t.Errorf("limit=%s: %d %s, want %d", bad, r.Status, r.Body, status)
			}
		}
		if again := e.queueIDs("prov_tx_md"); !slices.Equal(again, all) {
			t.Fatalf("the queue changed: %v, was %v", again, all)
		}
	})
}

// TestProviderQueueLimitAcrossStates: for a provider licensed in two states
// whose queued exams' waiting times interleave, ?limit=N is the first N of
// the merged queue (oldest first), not the first N of one state.
func TestProviderQueueLimitAcrossStates(t *testing.T) {
	forEachHome(t, func(t *testing.T, open func(testing.TB, bool) *env) {
		e := open(t, false)
		e.putProviders(directory.Provider{ID: "prov_txca_md", Name: "Dr. TX-CA", Credential: "MD", NPI: "1000000004",
			Licenses: []directory.License{
				{State: "TX", Type: rules.MD, Number: "TX-2", Expires: "2099-01-01"},
				{State: "CA", Type: rules.MD, Number: "CA-2", Expires: "2099-01-01"},
			}, Categories: []string{"neurotoxin"}})
		e.online("prov_txca_md")
		var queued, states []string
		for _, st := range []string{"TX", "CA", "TX", "CA", "CA", "TX"} {
			queued = append(queued, e.queuedIn(st, "video"))
			states = append(states, st)
		}
		md := bearer(e.providerToken("prov_txca_md"))
		whole := e.must(200, e.do("GET", "/v1/provider/queue", md, nil)).json(t)["items"].([]any)
		var all, allStates []string
		for _, it := range whole {
			all = append(all, it.(map[string]any)["exam_id"].(string))
			allStates = append(allStates, it.(map[string]any)["state"].(string))
		}
		// The seed queues nothing, so the queue is the six exams in the
		// order they were queued, the states interleaved.
		if !slices.Equal(all, queued) || !slices.Equal(allStates, states) {
			t.Fatalf("whole queue: %v %v, want %v %v", all, allStates, queued, states)
		}
		for n := 1; n <= len(all)+1; n++ {
			items := e.must(200, e.do("GET", "/v1/provider/queue?limit="+strconv.Itoa(n), md, nil)).json(t)["items"].([]any)
			var ids []string
			for _, it := range items {
				ids = append(ids, it.(map[string]any)["exam_id"].(string))
			}
			if want := all[:min(n, len(all))]; !slices.Equal(ids, want) {
				t.Errorf("limit=%d: %v, want %v", n, ids, want)
			}
		}
	})
}
