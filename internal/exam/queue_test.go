package exam

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goodfaith/goodfaith/internal/clinicrules"
	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/directory"
	"github.com/goodfaith/goodfaith/internal/fault"
	"github.com/goodfaith/goodfaith/internal/presence"
	"github.com/goodfaith/goodfaith/internal/rules"
	"github.com/goodfaith/goodfaith/internal/store"
	"github.com/goodfaith/goodfaith/internal/store/boltstore"
	"github.com/goodfaith/goodfaith/internal/store/dynamo/dynamotest"
)

// The queue, claim, lease and SLA tests run on both store adapters with an
// injected clock: the embedded bbolt store and DynamoDB Local.

var queueT0 = time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC) // a Monday

type seqIDs struct{ n atomic.Int64 }

func (g *seqIDs) New(prefix string) string { return fmt.Sprintf("%s_%08d", prefix, g.n.Add(1)) }

type queueHarness struct {
	t   *testing.T
	svc *Service
	clk *clock.Fake
}

func openBolt(t *testing.T, clk clock.Clock) store.Store {
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "q.db"), boltstore.WithClock(clk), boltstore.WithoutSync())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func openDynamo(t *testing.T, _ clock.Clock) store.Store { return dynamotest.Open(t) }

// onBothStores runs fn on each store adapter.
func onBothStores(t *testing.T, fn func(h *queueHarness)) {
	for _, a := range []struct {
		name string
		open func(*testing.T, clock.Clock) store.Store
	}{{"bolt", openBolt}, {"dynamo", openDynamo}} {
		t.Run(a.name, func(t *testing.T) {
			clk := clock.NewFake(queueT0)
			st := a.open(t, clk)
			svc := &Service{Store: st, Directory: directory.Directory{Store: st}, Rules: rules.Default(), Clock: clk, IDs: &seqIDs{}}
			h := &queueHarness{t: t, svc: svc, clk: clk}
			for _, p := range testProviders {
				if err := svc.Directory.PutProvider(t.Context(), p); err != nil {
					t.Fatal(err)
				}
			}
			if err := svc.Directory.PutClinic(t.Context(), directory.Clinic{ID: "clinic_t", Name: "T", Treatments: rules.Default().Categories()}); err != nil {
				t.Fatal(err)
			}
			fn(h)
		})
	}
}

func lic(state string, typ rules.LicenseType, expires string) directory.License {
	return directory.License{State: state, Type: typ, Number: state + "-" + string(typ), Expires: expires}
}

var testProviders = []directory.Provider{
	{ID: "tx_md", Name: "A", Licenses: []directory.License{lic("TX", rules.MD, "2030-01-01")}, Categories: []string{"neurotoxin", "dermal_filler"}},
	{ID: "tx_fl_np", Name: "B", Licenses: []directory.License{lic("TX", rules.NP, "2030-01-01"), lic("FL", rules.NP, "2030-01-01")}, Categories: []string{"neurotoxin"}},
	{ID: "tx_expired", Name: "C", Licenses: []directory.License{lic("TX", rules.MD, "2026-11-22")}, Categories: []string{"neurotoxin"}},
	{ID: "md_np", Name: "D", Licenses: []directory.License{lic("MD", rules.NP, "2030-01-01")}, Categories: []string{"neurotoxin"}},
	{ID: "md_md", Name: "E", Licenses: []directory.License{lic("MD", rules.MD, "2030-01-01")}, Categories: []string{"neurotoxin"}},
}

// queued puts an exam straight into its state's queue, as Submit does.
func (h *queueHarness) queued(state, modality string, treatments ...string) Exam {
	h.t.Helper()
	now := h.svc.now()
	e := Exam{ID: h.svc.IDs.New("exam"), ClinicID: "clinic_t", Status: Draft, State: state, Treatments: treatments,
		Modality: modality, CreatedAt: now, UpdatedAt: now, History: []Transition{}}
	e, err := e.Submit(e.ID, now)
	if err == nil {
		e, err = e.Enqueue(RoleSystem, now)
	}
	if err != nil {
		h.t.Fatal(err)
	}
	e.SLA = h.svc.Queueing().newSLA(modality, now)
	if err := commit(h.t.Context(), h.svc.Store, e.createOp()); err != nil {
		h.t.Fatal(err)
	}
	return e
}

func (h *queueHarness) status(id string) Exam {
	h.t.Helper()
	e, err := load(h.t.Context(), h.svc.Store, id)
	if err != nil {
		h.t.Fatal(err)
	}
	return e
}

func (h *queueHarness) queueIDs(providerID string) []string {
	h.t.Helper()
	items, err := h.svc.Queue(h.t.Context(), providerID)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []string
	for _, it := range items {
		out = append(out, it.ExamID)
	}
	return out
}

func wantCode(t *testing.T, err error, kind error, code string) {
	t.Helper()
	var fe *fault.Error
	if !errors.Is(err, kind) || !errors.As(err, &fe) || fe.Code != code {
		t.Fatalf("got %v, want %v %s", err, kind, code)
	}
}

func TestLeaseExpiryPutsTheExamBack(t *testing.T) {
	onBothStores(t, func(h *queueHarness) {
		t, ctx := h.t, h.t.Context()
		e := h.queued("TX", "async", "neurotoxin")
		claimed, err := h.svc.Claim(ctx, "tx_md", e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if claimed.Lease == nil || !claimed.Lease.Until.Equal(queueT0.Add(DefaultQueuePolicy.Lease)) {
			t.Fatalf("lease = %+v", claimed.Lease)
		}
		// Half-way through, the console's heartbeat renews the lease.
		h.clk.Advance(DefaultQueuePolicy.Lease / 2)
		if n, err := h.svc.RenewLeases(ctx, "tx_md"); err != nil || n != 1 {
			t.Fatalf("renewed %d, %v", n, err)
		}
		h.clk.Advance(DefaultQueuePolicy.Lease/2 + time.Second) // past the first lease, inside the renewed one
		if n, err := h.svc.SweepLeases(ctx); err != nil || n != 0 {
			t.Fatalf("swept %d, %v; the renewed lease still holds", n, err)
		}
		if got := h.status(e.ID); got.Status != Claimed || got.ProviderID != "tx_md" {
			t.Fatalf("after renewal: %s by %q", got.Status, got.ProviderID)
		}
		// The provider goes silent: the lease runs out and the exam is back.
		h.clk.Advance(DefaultQueuePolicy.Lease)
		if n, err := h.svc.SweepLeases(ctx); err != nil || n != 1 {
			t.Fatalf("swept %d, %v", n, err)
		}
		back := h.status(e.ID)
		if back.Status != Queued || back.ProviderID != "" || back.Lease != nil {
			t.Fatalf("after expiry: %+v", back)
		}
		// Sweeping again changes nothing (idempotent).
		if n, err := h.svc.SweepLeases(ctx); err != nil || n != 0 {
			t.Fatalf("second sweep %d, %v", n, err)
		}
		if got := h.status(e.ID); got.version != back.version {
			t.Fatalf("second sweep wrote version %d over %d", got.version, back.version)
		}
		// Another provider takes it; the first one's claim slot is free again.
		if _, err := h.svc.Claim(ctx, "tx_fl_np", e.ID); err != nil {
			t.Fatal(err)
		}
		if n, err := h.svc.ActiveClaims(ctx, "tx_md"); err != nil || n != 0 {
			t.Fatalf("tx_md holds %d, %v", n, err)
		}
	})
}

func TestSLAEscalatesThenExpires(t *testing.T) {
	onBothStores(t, func(h *queueHarness) {
		t, ctx := h.t, h.t.Context()
		async := h.queued("TX", "async", "neurotoxin")
		video := h.queued("TX", "video", "neurotoxin")
		h.clk.Advance(time.Minute)
		if rep, err := h.svc.SweepSLA(ctx); err != nil || rep != (SweepReport{}) {
			t.Fatalf("nothing is due yet: %+v %v", rep, err)
		}
		h.clk.Advance(DefaultQueuePolicy.Escalate["video"])
		rep, err := h.svc.SweepSLA(ctx)
		if err != nil || rep.Escalated != 1 || rep.Expired != 0 {
			t.Fatalf("video due for escalation: %+v %v", rep, err)
		}
		if got := h.status(video.ID); got.SLA.EscalatedAt == nil || got.Status != Queued {
			t.Fatalf("video after escalation: %+v", got.SLA)
		}
		if rep, _ := h.svc.SweepSLA(ctx); rep != (SweepReport{}) {
			t.Fatalf("escalation repeated: %+v", rep)
		}
		h.clk.Set(queueT0.Add(DefaultQueuePolicy.Expire["video"]))
		if rep, err := h.svc.SweepSLA(ctx); err != nil || rep.Expired != 1 {
			t.Fatalf("video past its deadline: %+v %v", rep, err)
		}
		expired := h.status(video.ID)
		if expired.Status != Expired || !expired.Status.Final() {
			t.Fatalf("video: %s", expired.Status)
		}
		// An expired exam is out of every queue and cannot be claimed.
		if ids := h.queueIDs("tx_md"); len(ids) != 1 || ids[0] != async.ID {
			t.Fatalf("queue after expiry: %v", ids)
		}
		if _, err := presence.Set(ctx, h.svc.Store, h.clk, "tx_md", true); err != nil {
			t.Fatal(err)
		}
		_, err = h.svc.Claim(ctx, "tx_md", video.ID)
		wantCode(t, err, fault.ErrConflict, "invalid_transition")
		// The asynchronous exam lives on its own, longer windows.
		h.clk.Set(queueT0.Add(DefaultQueuePolicy.Expire["async"]))
		rep, err = h.svc.SweepSLA(ctx)
		if err != nil || rep.Expired != 1 || rep.Escalated != 0 {
			t.Fatalf("async at its deadline (escalation and expiry due together: expiry wins): %+v %v", rep, err)
		}
		if got := h.status(async.ID); got.Status != Expired {
			t.Fatalf("async: %s", got.Status)
		}
	})
}

func TestClaimedExamDoesNotExpireAndReleaseKeepsGrace(t *testing.T) {
	onBothStores(t, func(h *queueHarness) {
		t, ctx := h.t, h.t.Context()
		e := h.queued("TX", "async", "neurotoxin")
		if _, err := h.svc.Claim(ctx, "tx_md", e.ID); err != nil {
			t.Fatal(err)
		}
		h.clk.Set(queueT0.Add(DefaultQueuePolicy.Expire["async"] + time.Minute))
		if rep, err := h.svc.SweepSLA(ctx); err != nil || rep.Expired != 0 {
			t.Fatalf("a claimed exam expired: %+v %v", rep, err)
		}
		if _, err := h.svc.RenewLeases(ctx, "tx_md"); err != nil {
			t.Fatal(err)
		}
		// Released after its deadline, it gets one escalation window more.
		back, err := h.svc.Release(ctx, "tx_md", e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if want := h.clk.Now().Add(DefaultQueuePolicy.Escalate["async"]); !back.SLA.Deadline.Equal(want) {
			t.Fatalf("deadline after a late release %v, want %v", back.SLA.Deadline, want)
		}
		if rep, _ := h.svc.SweepSLA(ctx); rep.Expired != 0 || rep.Escalated != 1 {
			t.Fatalf("right after release: %+v; want a fresh escalation, no expiry", rep)
		}
		h.clk.Advance(DefaultQueuePolicy.Escalate["async"])
		if rep, _ := h.svc.SweepSLA(ctx); rep.Expired != 1 {
			t.Fatalf("after the grace: %+v", rep)
		}
	})
}

func TestClaimLimitAndEligibility(t *testing.T) {
	onBothStores(t, func(h *queueHarness) {
		t, ctx := h.t, h.t.Context()
		var exams []Exam
		for range DefaultQueuePolicy.ClaimLimit + 1 {
			exams = append(exams, h.queued("TX", "async", "neurotoxin"))
			h.clk.Advance(time.Second)
		}
		for _, e := range exams[:DefaultQueuePolicy.ClaimLimit] {
			if _, err := h.svc.Claim(ctx, "tx_md", e.ID); err != nil {
				t.Fatal(err)
			}
		}
		last := exams[DefaultQueuePolicy.ClaimLimit]
		_, err := h.svc.Claim(ctx, "tx_md", last.ID)
		wantCode(t, err, fault.ErrConflict, "claim_limit_reached")
		if got := h.status(last.ID); got.Status != Queued {
			t.Fatalf("refused claim changed the exam: %s", got.Status)
		}
		// Releasing one frees a slot.
		if _, err := h.svc.Release(ctx, "tx_md", exams[0].ID); err != nil {
			t.Fatal(err)
		}
		if _, err := h.svc.Claim(ctx, "tx_md", last.ID); err != nil {
			t.Fatalf("after a release: %v", err)
		}
		// Someone else holds it: 409; not eligible: 404, whoever holds it.
		_, err = h.svc.Claim(ctx, "tx_fl_np", last.ID)
		wantCode(t, err, fault.ErrConflict, "already_claimed")
		for _, p := range []string{"tx_expired", "md_np", "md_md", "nobody"} {
			_, err = h.svc.Claim(ctx, p, exams[0].ID)
			wantCode(t, err, fault.ErrNotFound, "exam_not_found")
		}
	})
}

func TestQueueIsTheEligibleUnionInSLAOrder(t *testing.T) {
	onBothStores(t, func(h *queueHarness) {
		t, ctx := h.t, h.t.Context()
		txAsync := h.queued("TX", "async", "neurotoxin")
		h.clk.Advance(time.Minute)
		flAsync := h.queued("FL", "async", "neurotoxin")
		h.clk.Advance(time.Minute)
		txVideo := h.queued("TX", "video", "neurotoxin") // newer, but due sooner
		txFiller := h.queued("TX", "async", "dermal_filler")
		mdTox := h.queued("MD", "video", "neurotoxin")

		if err := checkQueue(h, "tx_md", txAsync.ID, txFiller.ID); err != nil {
			t.Fatal(err) // offline: no video
		}
		if _, err := presence.Set(ctx, h.svc.Store, h.clk, "tx_md", true); err != nil {
			t.Fatal(err)
		}
		if err := checkQueue(h, "tx_md", txVideo.ID, txAsync.ID, txFiller.ID); err != nil {
			t.Fatal(err)
		}
		if err := checkQueue(h, "tx_fl_np", txAsync.ID, flAsync.ID); err != nil {
			t.Fatal(err) // both states, neurotoxin only
		}
		if err := checkQueue(h, "tx_expired"); err != nil {
			t.Fatal(err)
		}
		if _, err := presence.Set(ctx, h.svc.Store, h.clk, "md_np", true); err != nil {
			t.Fatal(err)
		}
		if _, err := presence.Set(ctx, h.svc.Store, h.clk, "md_md", true); err != nil {
			t.Fatal(err)
		}
		if err := checkQueue(h, "md_np"); err != nil {
			t.Fatal(err) // Maryland: the physician assesses
		}
		if err := checkQueue(h, "md_md", mdTox.ID); err != nil {
			t.Fatal(err)
		}
		// A clinic override excluding NPs in Texas hides its TX exams from the NP.
		if _, err := clinicrules.Put(ctx, h.svc.Store, h.svc.Rules, "clinic_t", rules.Overrides{{State: "TX", Treatment: rules.Any, Performers: []rules.LicenseType{rules.MD, rules.DO}}}, h.clk.Now()); err != nil {
			t.Fatal(err)
		}
		if err := checkQueue(h, "tx_fl_np", flAsync.ID); err != nil {
			t.Fatal(err)
		}
		_, err := h.svc.Claim(ctx, "tx_fl_np", txAsync.ID)
		wantCode(t, err, fault.ErrNotFound, "exam_not_found")
		// Presence lapses after its TTL: video leaves the queue again.
		h.clk.Advance(presence.TTL)
		if err := checkQueue(h, "tx_md", txAsync.ID, txFiller.ID); err != nil {
			t.Fatal(err)
		}
		_, err = h.svc.Claim(ctx, "tx_md", txVideo.ID)
		wantCode(t, err, fault.ErrNotFound, "exam_not_found")
	})
}

func checkQueue(h *queueHarness, providerID string, want ...string) error {
	got := h.queueIDs(providerID)
	if fmt.Sprint(got) != fmt.Sprint(want) && !(len(got) == 0 && len(want) == 0) {
		return fmt.Errorf("%s's queue = %v, want %v", providerID, got, want)
	}
	return nil
}

// queueReads records the pages QueueFirst asks of each state's queue.
type queueReads struct {
	store.Store
	limits map[string][]int // queue index key → each page's Limit
}

func (r *queueReads) Query(ctx context.Context, q store.Query) (store.Page, error) {
	if q.Index == store.ByGSI2 {
		r.limits[q.PK] = append(r.limits[q.PK], q.Limit)
	}
	return r.Store.Query(ctx, q)
}

// TestQueueFirstPagesNearTheLimit: a poll for N items reads each state's
// queue in pages of min(max(4N, 25), 1000), not 1000 at once, and pages on
// past exams the provider may not take until it has N or the queue ends;
// across two states the oldest N come first. Without a limit the pages are
// as large as the store allows.
func TestQueueFirstPagesNearTheLimit(t *testing.T) {
	onBothStores(t, func(h *queueHarness) {
		t := h.t
		// 30 filler exams tx_fl_np may not take fill the head of Texas.
		for range 30 {
			h.queued("TX", "async", "dermal_filler")
			h.clk.Advance(time.Second)
		}
		txTox := h.queued("TX", "async", "neurotoxin")
		h.clk.Advance(time.Second)
		flTox := h.queued("FL", "async", "neurotoxin")
		h.clk.Advance(time.Second)
		txTox2 := h.queued("TX", "async", "neurotoxin")
		reads := &queueReads{Store: h.svc.Store, limits: map[string][]int{}}
		h.svc.Store = reads
		for _, c := range []struct {
			limit, page int
			want        []string
		}{
			{1, 25, []string{txTox.ID}},
			{2, 25, []string{txTox.ID, flTox.ID}},
			{3, 25, []string{txTox.ID, flTox.ID, txTox2.ID}},
			{10, 40, []string{txTox.ID, flTox.ID, txTox2.ID}},
			{0, store.MaxQueryLimit, []string{txTox.ID, flTox.ID, txTox2.ID}},
		} {
			clear(reads.limits)
			items, err := h.svc.QueueFirst(t.Context(), "tx_fl_np", c.limit)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, it := range items {
				got = append(got, it.ExamID)
			}
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("limit %d: %v, want %v", c.limit, got, c.want)
			}
			tx := reads.limits[QueueIndexPK("TX")]
			if len(tx) == 0 || len(reads.limits[QueueIndexPK("FL")]) == 0 {
				t.Fatalf("limit %d: pages read %v", c.limit, reads.limits)
			}
			for _, l := range tx {
				if l != c.page {
					t.Errorf("limit %d: Texas read in pages of %v, want %d each", c.limit, tx, c.page)
					break
				}
			}
			if c.page == 25 && len(tx) < 2 {
				t.Errorf("limit %d: Texas read in %d page(s) of 25; the first eligible exam is the 31st", c.limit, len(tx))
			}
		}
	})
}
