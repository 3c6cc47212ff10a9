package billing_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goodfaith/goodfaith/internal/billing"
	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/directory"
	"github.com/goodfaith/goodfaith/internal/exam"
	"github.com/goodfaith/goodfaith/internal/store"
)

// killingStore lets a consumer "die" right after its killAt-th transaction
// commits, before it can acknowledge the batch: the worst moment, since the
// redelivered batch then holds an exam already charged.
type killingStore struct {
	store.Store
	n      *atomic.Int64 // transactions of every incarnation so far
	killAt int64
	kill   context.CancelFunc
}

func (k *killingStore) Transact(ctx context.Context, ops ...store.Op) error {
	if err := ctx.Err(); err != nil {
		return err // dead consumers write nothing more
	}
	err := k.Store.Transact(ctx, ops...)
	if k.n.Add(1) == k.killAt {
		k.kill()
		return context.Canceled
	}
	return err
}

// feed hands batches to a consumer as a change feed does: a batch is
// acknowledged only when the handler succeeds; when the consumer dies
// mid-batch a new one (restarted, with no memory) gets the same batch again.
func feed(t *testing.T, st store.Store, clinics billing.Clinics, clk clock.Clock, changes []store.Change, killAt int64) (restarts int) {
	t.Helper()
	const batch = 100
	var n atomic.Int64
	for start := 0; start < len(changes); {
		end := min(start+batch, len(changes))
		ctx, cancel := context.WithCancel(context.Background())
		ks := &killingStore{Store: st, n: &n, killAt: killAt, kill: cancel}
		if restarts > 0 {
			ks.killAt = -1 // the restarted consumer lives
		}
		m := billing.Meter{Ledger: billing.Ledger{Store: ks, Clock: clk}, Clinics: clinics}
		err := m.Handle(ctx, changes[start:end])
		cancel()
		if err != nil {
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("batch %d: %v", start/batch, err)
			}
			restarts++
			continue // not acknowledged: redelivered to the restarted consumer
		}
		start = end
	}
	return restarts
}

func TestMeterChargesEachExamExactlyOnce(t *testing.T) {
	forEachAdapter(t, func(t *testing.T, st store.Store) {
		const n = 1000
		ctx := context.Background()
		clinic := putClinic(t, st, directory.Clinic{ID: "clinic_a", PriceCents: 0, Timezone: "America/Chicago"}) // default price
		dir := directory.Directory{Store: st}
		base := time.Date(2025, 3, 3, 15, 0, 0, 0, time.UTC)
		clk := clock.NewFake(base.Add(48 * time.Hour))
		outcomes := []exam.Outcome{exam.Approved, exam.Deferred, exam.Denied}
		var changes []store.Change
		for i := range n {
			e := decided(examID(i), clinic.ID, outcomes[i%3], base.Add(time.Duration(i)*time.Minute))
			// Every record twice, as two distinct stream records, plus the
			// exam's earlier, non-billable writes.
			changes = append(changes, change("a-"+e.ID, "", e), change("b-"+e.ID, "", e))
			q := e
			q.Status, q.Outcome, q.DecidedAt = exam.Queued, "", nil
			changes = append(changes, change("q-"+e.ID, exam.Submitted, q))
		}
		rng := rand.New(rand.NewPCG(5, 5))
		rng.Shuffle(len(changes), func(i, j int) { changes[i], changes[j] = changes[j], changes[i] })
		reversed := make([]store.Change, len(changes))
		for i, c := range changes {
			reversed[len(changes)-1-i] = c
		}

		// Two consumers at once, in opposite orders; the first dies mid-batch
		// after its 137th charge and restarts.
		var wg sync.WaitGroup
		var restarts int
		wg.Go(func() { restarts = feed(t, st, dir, clk, changes, 137) })
		wg.Go(func() { feed(t, st, dir, clk, reversed, -1) })
		wg.Wait()
		if restarts == 0 {
			t.Fatal("the consumer was never killed: the test did not exercise a restart")
		}

		ledger := newLedger(st, clk)
		m := billing.MonthOf(base, billing.Location(clinic.Timezone))
		st2, err := ledger.Statement(ctx, clinic, m)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(st2.Lines); got != n {
			t.Fatalf("ledger holds %d lines, want %d", got, n)
		}
		seen := map[string]bool{}
		for _, l := range st2.Lines {
			if seen[l.ExamID] {
				t.Fatalf("exam %s charged twice", l.ExamID)
			}
			seen[l.ExamID] = true
			if l.AmountCents != directory.DefaultPriceCents || l.Currency != "USD" || l.Kind != billing.KindUsage {
				t.Fatalf("line %+v", l)
			}
		}
		if st2.UsageCount != n || st2.AmountCents != n*directory.DefaultPriceCents {
			t.Fatalf("statement: %d exams, %d¢; want %d, %d¢", st2.UsageCount, st2.AmountCents, n, n*directory.DefaultPriceCents)
		}
		rec, err := ledger.Month(ctx, clinic.ID, m)
		if err != nil {
			t.Fatal(err)
		}
		if rec.UsageCount != n || rec.AmountCents != n*directory.DefaultPriceCents {
			t.Fatalf("month record: %+v", rec)
		}
		// Nothing landed in any other month.
		if months, err := ledger.Months(ctx, clinic.ID); err != nil || len(months) != 1 {
			t.Fatalf("months = %+v, %v", months, err)
		}
	})
}

func TestNonBillableOutcomesLeaveTheLedgerUnchanged(t *testing.T) {
	forEachAdapter(t, func(t *testing.T, st store.Store) {
		clinic := putClinic(t, st, directory.Clinic{ID: "clinic_a"})
		at := time.Date(2025, 5, 5, 12, 0, 0, 0, time.UTC)
		m := billing.Meter{Ledger: newLedger(st, clock.NewFake(at)), Clinics: directory.Directory{Store: st}}
		// One billable exam first, so "unchanged" is checked against a
		// ledger that exists.
		if err := m.Handle(context.Background(), []store.Change{change("c0", "", decided(examID(0), clinic.ID, exam.Approved, at))}); err != nil {
			t.Fatal(err)
		}
		before := billingItems(t, st)
		if len(before) == 0 {
			t.Fatal("the billable exam wrote nothing")
		}
		cases := map[string]store.Change{}
		na := decided(examID(1), clinic.ID, exam.NotApplicable, at)
		cases["not_applicable"] = change("c1", "", na)
		for i, s := range []exam.Status{exam.Cancelled, exam.Expired} {
			e := decided(examID(2+i), clinic.ID, "", at)
			e.Status = s
			cases[string(s)] = change("c"+string(s), exam.Queued, e)
		}
		for name, ch := range cases {
			t.Run(name, func(t *testing.T) {
				for range 2 {
					if err := m.Handle(context.Background(), []store.Change{ch}); err != nil {
						t.Fatal(err)
					}
				}
				after := billingItems(t, st)
				if len(after) != len(before) {
					t.Fatalf("%s changed the ledger: %d items, was %d", name, len(after), len(before))
				}
				for k, v := range before {
					if after[k] != v {
						t.Fatalf("%s changed %s", name, k)
					}
				}
			})
		}
		// Charge refuses a non-billable exam outright.
		if _, err := m.Charge(context.Background(), clinic, na); err == nil {
			t.Fatal("Charge accepted a not_applicable exam")
		}
	})
}

func TestMeterChargesTheClinicsPrice(t *testing.T) {
	st := openBolt(t)
	clinic := putClinic(t, st, directory.Clinic{ID: "clinic_p", PriceCents: 4500})
	at := time.Date(2025, 5, 5, 12, 0, 0, 0, time.UTC)
	m := billing.Meter{Ledger: newLedger(st, clock.NewFake(at)), Clinics: directory.Directory{Store: st}}
	l, err := m.Charge(context.Background(), clinic, decided(examID(1), clinic.ID, exam.Denied, at))
	if err != nil {
		t.Fatal(err)
	}
	if l.AmountCents != 4500 || l.Outcome != "denied" || l.Month != "2025-05" || !l.At.Equal(at) {
		t.Fatalf("line = %+v", l)
	}
	if _, err := m.Charge(context.Background(), clinic, decided(examID(1), clinic.ID, exam.Denied, at)); !errors.Is(err, billing.ErrAlreadyPosted) {
		t.Fatalf("second charge: %v, want ErrAlreadyPosted", err)
	}
}
