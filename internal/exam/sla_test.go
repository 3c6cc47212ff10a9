package exam

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/goodfaith/goodfaith/internal/store"
)

// The SLA sweep reads the SLA-due index (GSI3): these tests run on both
// store adapters (onBothStores, queue_test.go) and assert on the stored
// items' GSI3 keys as well as on the exams.

func TestNextSLAStep(t *testing.T) {
	esc := queueT0.Add(5 * time.Minute)
	dl := queueT0.Add(30 * time.Minute)
	at := queueT0.Add(6 * time.Minute)
	cases := []struct {
		name   string
		status Status
		sla    *SLA
		want   time.Time
		wantOK bool
	}{
		{"queued, not escalated: its escalation", Queued, &SLA{EscalateAt: esc, Deadline: dl}, esc, true},
		{"queued, escalated: its deadline", Queued, &SLA{EscalateAt: esc, Deadline: dl, EscalatedAt: &at}, dl, true},
		{"queued, deadline before escalation: the deadline", Queued, &SLA{EscalateAt: dl, Deadline: esc}, esc, true},
		{"queued, escalation at the deadline: the deadline", Queued, &SLA{EscalateAt: dl, Deadline: dl}, dl, true},
		{"queued without an SLA: none", Queued, nil, time.Time{}, false},
		{"claimed: none", Claimed, &SLA{EscalateAt: esc, Deadline: dl}, time.Time{}, false},
		{"expired: none", Expired, &SLA{EscalateAt: esc, Deadline: dl, EscalatedAt: &at}, time.Time{}, false},
	}
	for _, c := range cases {
		e := Exam{ID: "exam_1", Status: c.status, SLA: c.sla}
		got, ok := e.nextSLAStep()
		if ok != c.wantOK || !got.Equal(c.want) {
			t.Errorf("%s: %v, %v; want %v, %v", c.name, got, ok, c.want, c.wantOK)
		}
		it := e.item(1)
		switch {
		case c.wantOK && (it.GSI3PK != SLAIndexPK || it.GSI3SK != store.SortableTime(c.want)+"#exam_1"):
			t.Errorf("%s: item GSI3 %q %q", c.name, it.GSI3PK, it.GSI3SK)
		case !c.wantOK && (it.GSI3PK != "" || it.GSI3SK != ""):
			t.Errorf("%s: item GSI3 %q %q; want none (off the index)", c.name, it.GSI3PK, it.GSI3SK)
		}
	}
}

// indexReads records every query a sweep asks of the store.
type indexReads struct {
	store.Store
	queries []string // "<index>|<pk>"
}

func (r *indexReads) Query(ctx context.Context, q store.Query) (store.Page, error) {
	r.queries = append(r.queries, fmt.Sprintf("%d|%s", q.Index, q.PK))
	return r.Store.Query(ctx, q)
}

// stored reads the exam's item as the store keeps it.
func (h *queueHarness) stored(id string) store.Item {
	h.t.Helper()
	it, err := h.svc.Store.Get(h.t.Context(), examKey(id))
	if err != nil {
		h.t.Fatal(err)
	}
	return it
}

// slaIndexIDs lists the exams on the SLA-due index, in its order.
func (h *queueHarness) slaIndexIDs() []string {
	h.t.Helper()
	var ids []string
	q := store.Query{Index: store.ByGSI3, PK: SLAIndexPK}
	for {
		page, err := h.svc.Store.Query(h.t.Context(), q)
		if err != nil {
			h.t.Fatal(err)
		}
		for _, it := range page.Items {
			e, err := FromItem(it)
			if err != nil {
				h.t.Fatal(err)
			}
			ids = append(ids, e.ID)
		}
		if page.Cursor == "" {
			return ids
		}
		q.Cursor = page.Cursor
	}
}

// wantOnSLAIndex checks the exam's stored GSI3 keys: SLAIndexPK and the
// time of step, or none at all when step is zero.
func (h *queueHarness) wantOnSLAIndex(id string, step time.Time) {
	h.t.Helper()
	it := h.stored(id)
	if step.IsZero() {
		if it.GSI3PK != "" || it.GSI3SK != "" {
			h.t.Fatalf("exam %s: GSI3 %q %q; want it off the SLA index", id, it.GSI3PK, it.GSI3SK)
		}
		return
	}
	if want := store.SortableTime(step) + "#" + id; it.GSI3PK != SLAIndexPK || it.GSI3SK != want {
		h.t.Fatalf("exam %s: GSI3 %q %q; want %q %q", id, it.GSI3PK, it.GSI3SK, SLAIndexPK, want)
	}
}

// An exam queued in each state sits on the one SLA partition, and one sweep
// expires them all with one query of that partition: no state queue is
// read.
func TestSweepReadsOnlyTheSLAPartition(t *testing.T) {
	onBothStores(t, func(h *queueHarness) {
		t, ctx := h.t, h.t.Context()
		states := h.svc.Rules.States()
		ids := map[string]string{}
		for _, state := range states {
			e := h.queued(state, "video", "neurotoxin")
			ids[state] = e.ID
			h.wantOnSLAIndex(e.ID, e.SLA.EscalateAt)
		}
		if got := h.slaIndexIDs(); len(got) != len(states) {
			t.Fatalf("%d exams on the SLA index, want %d (one per state)", len(got), len(states))
		}
		reads := &indexReads{Store: h.svc.Store}
		h.svc.Store = reads
		h.clk.Set(queueT0.Add(DefaultQueuePolicy.Expire["video"]))
		rep, err := h.svc.SweepSLA(ctx)
		h.svc.Store = reads.Store
		if err != nil || rep.Expired != len(states) || rep.Escalated != 0 {
			t.Fatalf("sweep of %d states: %+v %v", len(states), rep, err)
		}
		for i, q := range reads.queries {
			if want := fmt.Sprintf("%d|%s", store.ByGSI3, SLAIndexPK); q != want {
				t.Fatalf("query %d of the sweep: %s; want only %s", i, q, want)
			}
		}
		if len(reads.queries) != 1 {
			t.Fatalf("the sweep made %d queries of the SLA partition for %d exams; want 1", len(reads.queries), len(states))
		}
		for state, id := range ids {
			if got := h.status(id); got.Status != Expired {
				t.Errorf("%s: %s after the sweep", state, got.Status)
			}
			h.wantOnSLAIndex(id, time.Time{})
		}
		if got := h.slaIndexIDs(); len(got) != 0 {
			t.Fatalf("after expiry the SLA index holds %v", got)
		}
		if rep, err := h.svc.SweepSLA(ctx); err != nil || rep != (SweepReport{}) {
			t.Fatalf("a second sweep changed something: %+v %v", rep, err)
		}
	})
}

// Escalating moves the exam's index entry to its deadline, where the sweep
// finds it again and expires it; before the deadline it is left alone.
func TestSweepFindsEscalatedExamAgainAtItsDeadline(t *testing.T) {
	onBothStores(t, func(h *queueHarness) {
		t, ctx := h.t, h.t.Context()
		e := h.queued("TX", "video", "neurotoxin")
		later := h.queued("TX", "async", "neurotoxin")
		if got := h.slaIndexIDs(); fmt.Sprint(got) != fmt.Sprint([]string{e.ID, later.ID}) {
			t.Fatalf("SLA index %v; want the video exam (escalates first), then the async one", got)
		}
		h.clk.Set(e.SLA.EscalateAt)
		if rep, err := h.svc.SweepSLA(ctx); err != nil || rep.Escalated != 1 || rep.Expired != 0 {
			t.Fatalf("at the escalation time: %+v %v", rep, err)
		}
		h.wantOnSLAIndex(e.ID, e.SLA.Deadline)
		h.wantOnSLAIndex(later.ID, later.SLA.EscalateAt)
		if got := h.slaIndexIDs(); fmt.Sprint(got) != fmt.Sprint([]string{e.ID, later.ID}) {
			t.Fatalf("SLA index after the escalation %v", got)
		}
		h.clk.Set(e.SLA.Deadline.Add(-time.Nanosecond))
		if rep, err := h.svc.SweepSLA(ctx); err != nil || rep != (SweepReport{}) {
			t.Fatalf("just before the deadline: %+v %v", rep, err)
		}
		h.clk.Set(e.SLA.Deadline)
		if rep, err := h.svc.SweepSLA(ctx); err != nil || rep.Expired != 1 || rep.Escalated != 0 {
			t.Fatalf("at the deadline: %+v %v", rep, err)
		}
		if got := h.status(e.ID); got.Status != Expired {
			t.Fatalf("video exam at its deadline: %s", got.Status)
		}
		h.wantOnSLAIndex(e.ID, time.Time{})
		if got := h.slaIndexIDs(); fmt.Sprint(got) != fmt.Sprint([]string{later.ID}) {
			t.Fatalf("SLA index after the expiry %v; want only the async exam", got)
		}
	})
}

// A claimed exam has no SLA step pending, so it leaves the index; released,
// it is back, at the step its renewed SLA sets.
func TestClaimTakesExamOffTheSLAIndexAndReleasePutsItBack(t *testing.T) {
	onBothStores(t, func(h *queueHarness) {
		t, ctx := h.t, h.t.Context()
		e := h.queued("TX", "async", "neurotoxin")
		h.wantOnSLAIndex(e.ID, e.SLA.EscalateAt)
		if _, err := h.svc.Claim(ctx, "tx_md", e.ID); err != nil {
			t.Fatal(err)
		}
		h.wantOnSLAIndex(e.ID, time.Time{})
		if got := h.slaIndexIDs(); len(got) != 0 {
			t.Fatalf("SLA index while claimed: %v", got)
		}
		// Past every SLA time while claimed: the sweep has nothing to read.
		h.clk.Set(queueT0.Add(DefaultQueuePolicy.Expire["async"] + time.Minute))
		if rep, err := h.svc.SweepSLA(ctx); err != nil || rep != (SweepReport{}) {
			t.Fatalf("sweep while claimed: %+v %v", rep, err)
		}
		if _, err := h.svc.RenewLeases(ctx, "tx_md"); err != nil {
			t.Fatal(err)
		}
		back, err := h.svc.Release(ctx, "tx_md", e.ID)
		if err != nil {
			t.Fatal(err)
		}
		step, ok := back.nextSLAStep()
		if !ok {
			t.Fatalf("released exam has no SLA step: %+v", back.SLA)
		}
		h.wantOnSLAIndex(e.ID, step)
		if got := h.slaIndexIDs(); fmt.Sprint(got) != fmt.Sprint([]string{e.ID}) {
			t.Fatalf("SLA index after the release: %v", got)
		}
		if rep, err := h.svc.SweepSLA(ctx); err != nil || rep.Escalated != 1 {
			t.Fatalf("sweep after the release: %+v %v", rep, err)
		}
		h.wantOnSLAIndex(e.ID, h.status(e.ID).SLA.Deadline)
	})
}

// An exam queued by a build from before the SLA index has no GSI3 keys, so
// the sweep does not see it; IndexSLA puts it on the index (once), and the
// sweep then expires it.
func TestIndexSLAPutsOlderQueuedExamsOnTheIndex(t *testing.T) {
	onBothStores(t, func(h *queueHarness) {
		t, ctx := h.t, h.t.Context()
		old := h.queued("CA", "video", "neurotoxin")
		current := h.queued("TX", "video", "neurotoxin")
		claimed := h.queued("TX", "async", "neurotoxin")
		if _, err := h.svc.Claim(ctx, "tx_md", claimed.ID); err != nil {
			t.Fatal(err)
		}
		// The older build's item: the same exam, without GSI3 keys.
		it := h.stored(old.ID)
		it.GSI3PK, it.GSI3SK = "", ""
		it.Version++
		if err := h.svc.Store.Put(ctx, it, store.IfVersion(it.Version-1)); err != nil {
			t.Fatal(err)
		}
		h.clk.Set(queueT0.Add(DefaultQueuePolicy.Expire["video"]))
		if rep, err := h.svc.SweepSLA(ctx); err != nil || rep.Expired != 1 {
			t.Fatalf("sweep before re-indexing: %+v %v; want only the current exam expired", rep, err)
		}
		if got := h.status(old.ID); got.Status != Queued {
			t.Fatalf("the older exam is %s before re-indexing", got.Status)
		}
		n, err := h.svc.IndexSLA(ctx)
		if err != nil || n != 1 {
			t.Fatalf("IndexSLA = %d, %v; want the one older exam", n, err)
		}
		h.wantOnSLAIndex(old.ID, old.SLA.EscalateAt)
		h.wantOnSLAIndex(claimed.ID, time.Time{})
		if got := h.status(old.ID); got.Status != Queued || got.version != it.Version+1 || !got.UpdatedAt.Equal(old.UpdatedAt) {
			t.Fatalf("re-indexed exam: %s, version %d (want %d), updated %v", got.Status, got.version, it.Version+1, got.UpdatedAt)
		}
		if n, err := h.svc.IndexSLA(ctx); err != nil || n != 0 {
			t.Fatalf("second IndexSLA = %d, %v; want nothing to do", n, err)
		}
		if rep, err := h.svc.SweepSLA(ctx); err != nil || rep.Expired != 1 {
			t.Fatalf("sweep after re-indexing: %+v %v", rep, err)
		}
		for _, id := range []string{old.ID, current.ID} {
			if got := h.status(id); got.Status != Expired {
				t.Errorf("exam %s: %s after the sweeps", id, got.Status)
			}
		}
	})
}
