package e2e

import (
	"slices"
	"testing"
)

// heldIDs reads GET /v1/provider/exams as the provider and returns its
// items, failing on any item that carries more than a queue item shows.
func heldIDs(t *testing.T, e *env, provider hdr) []string {
	t.Helper()
	body := e.must(200, e.do("GET", "/v1/provider/exams", provider, nil)).json(t)
	items, ok := body["items"].([]any)
	if !ok {
		t.Fatalf("items is not a list: %v", body)
	}
	ids := []string{}
	for _, raw := range items {
		it := raw.(map[string]any)
		for _, phi := range []string{"patient", "answers", "attachments"} {
			if _, there := it[phi]; there {
				t.Fatalf("held item shows %s: %v", phi, it)
			}
		}
		if it["status"] != "claimed" || it["state"] != "TX" || it["claimed_at"] == nil || it["modality"] != "async" {
			t.Fatalf("held item %v", it)
		}
		if tr := it["treatments"].([]any); len(tr) != 1 || tr[0] != "neurotoxin" {
			t.Fatalf("held item treatments %v", it)
		}
		if _, ok := it["flags"].([]any); !ok {
			t.Fatalf("held item flags not a list: %v", it)
		}
		ids = append(ids, it["exam_id"].(string))
	}
	return ids
}

// TestProviderHeldExams: GET /v1/provider/exams lists exactly the exams
// the caller holds, oldest claim first; another provider's claims, released
// and decided exams are not in it.
func TestProviderHeldExams(t *testing.T) {
	forEachHome(t, func(t *testing.T, open func(t testing.TB, consumers bool) *env) {
		e := open(t, false)
		md := bearer(e.providerToken("prov_tx_md"))
		np := bearer(e.providerToken("prov_tx_np"))
		if ids := heldIDs(t, e, md); len(ids) != 0 {
			t.Fatalf("held before any claim: %v", ids)
		}
		if r := e.do("GET", "/v1/provider/exams", nil, nil); r.Status != 401 {
			t.Fatalf("without a token: %d", r.Status)
		}
		first, _ := e.queued()
		second, _ := e.queued()
		theirs, _ := e.queued()
		e.must(200, e.do("POST", "/v1/provider/exams/"+first+"/claim", md, nil))
		e.must(200, e.do("POST", "/v1/provider/exams/"+second+"/claim", md, nil))
		e.must(200, e.do("POST", "/v1/provider/exams/"+theirs+"/claim", np, nil))

		if ids := heldIDs(t, e, md); !slices.Equal(ids, []string{first, second}) {
			t.Fatalf("md holds %v, want [%s %s]", ids, first, second)
		}
		if ids := heldIDs(t, e, np); !slices.Equal(ids, []string{theirs}) {
			t.Fatalf("np holds %v, want [%s]", ids, theirs)
		}

		e.must(200, e.do("POST", "/v1/provider/exams/"+first+"/release", md, nil))
		if ids := heldIDs(t, e, md); !slices.Equal(ids, []string{second}) {
			t.Fatalf("after release md holds %v", ids)
		}
		e.must(201, e.do("POST", "/v1/provider/exams/"+second+"/decision", md, approval))
		if ids := heldIDs(t, e, md); len(ids) != 0 {
			t.Fatalf("after the decision md holds %v", ids)
		}
		if ids := heldIDs(t, e, np); !slices.Equal(ids, []string{theirs}) {
			t.Fatalf("np's claim changed: %v", ids)
		}
	})
}
