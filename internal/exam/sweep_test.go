package exam

import (
	"testing"
	"time"
)

// One scheduled sweep runs the lease sweep and the SLA sweep together and
// reports both: a claim whose lease ran out is back in the queue, and a
// live video exam past its escalation time is escalated. A second sweep
// changes nothing.
func TestSweepRunsTheLeaseAndSLASweeps(t *testing.T) {
	onBothStores(t, func(h *queueHarness) {
		t, ctx := h.t, h.t.Context()
		video := h.queued("TX", "video", "neurotoxin")
		held := h.queued("TX", "async", "neurotoxin")
		if _, err := h.svc.Claim(ctx, "tx_md", held.ID); err != nil {
			t.Fatal(err)
		}
		h.clk.Set(queueT0.Add(DefaultQueuePolicy.Lease + time.Minute)) // past the lease and the video escalation, before its deadline
		rep, err := h.svc.Sweep(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if rep != (SweepReport{Escalated: 1, LeasesExpired: 1}) {
			t.Fatalf("sweep report %+v; want one escalation and one lease expired", rep)
		}
		if got := h.status(video.ID); got.Status != Queued || got.SLA == nil || got.SLA.EscalatedAt == nil {
			t.Errorf("video exam after the sweep: %s, SLA %+v; want queued and escalated", got.Status, got.SLA)
		}
		if got := h.status(held.ID); got.Status != Queued || got.ProviderID != "" {
			t.Errorf("held exam after the sweep: %s by %q; want back in the queue", got.Status, got.ProviderID)
		}
		if rep, err := h.svc.Sweep(ctx); err != nil || rep != (SweepReport{}) {
			t.Errorf("second sweep: %+v, %v; want nothing changed", rep, err)
		}
	})
}
