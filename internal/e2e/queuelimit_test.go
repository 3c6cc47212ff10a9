package e2e

import (
	"slices"
	"strconv"
	"testing"
)

// TestProviderQueueLimit: GET /v1/provider/queue?limit=N answers the first
// N items of the whole queue (oldest first, across the provider's states),
// without limit the whole queue as before; a limit that is not a whole
// number from 1 to 1000 answers 422 naming the field.
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
		for _, bad := range []string{"0", "-1", "1001", "two", "1.5"} {
			r := e.do("GET", "/v1/provider/queue?limit="+bad, md, nil)
			if r.Status != 422 || r.errorCode(t) != "invalid_limit" || r.errorField(t) != "limit" {
				t.Errorf("limit=%s: %d %s", bad, r.Status, r.Body)
			}
		}
		if again := e.queueIDs("prov_tx_md"); !slices.Equal(again, all) {
			t.Fatalf("the queue changed: %v, was %v", again, all)
		}
	})
}
