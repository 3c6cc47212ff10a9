package e2e

import (
	"context"
	"errors"
	"testing"

	"github.com/goodfaith/goodfaith/internal/store"
)

// TestApprovalEndsItsSigningLease: the lease an approval takes on signing
// (EXAM#id / DECIDING) is gone once the decision answers, on both homes (it
// now ends inside the approval's own transaction, and the deferred unlock
// is skipped after a commit, so an approval that forgot either would leave
// it); a second approval still answers 409 and there is one PSO.
func TestApprovalEndsItsSigningLease(t *testing.T) {
	for _, name := range []string{"embedded", "aws"} {
		t.Run(name, func(t *testing.T) {
			h := openPSOHome(t, name)
			id, md := h.claimed()
			h.must(201, h.do("POST", "/v1/provider/exams/"+id+"/decision", md, approval))
			_, err := h.Store.Get(context.Background(), store.Key{PK: "EXAM#" + id, SK: "DECIDING"})
			if !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("the signing lease is still there after the approval: %v", err)
			}
			h.must(409, h.do("POST", "/v1/provider/exams/"+id+"/decision", md, approval))
			if n := h.psoRecords(t); n != 1 {
				t.Fatalf("%d PSO records", n)
			}
		})
	}
}
