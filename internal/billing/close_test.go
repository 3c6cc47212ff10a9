package billing_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/goodfaith/goodfaith/internal/billing"
	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/directory"
	"github.com/goodfaith/goodfaith/internal/store"
)

// failingFor fails every store call about one clinic's months.
type failingFor struct {
	store.Store
	clinicID string
}

var errStoreDown = errors.New("store unavailable")

func (f failingFor) Query(ctx context.Context, q store.Query) (store.Page, error) {
	if strings.Contains(q.PK, f.clinicID) {
		return store.Page{}, errStoreDown
	}
	return f.Store.Query(ctx, q)
}

// A run closes the last month of every clinic, more clinics than it closes
// at once, goes on past a clinic whose close fails and reports that
// failure; a second run changes nothing.
func TestMonthlyCloseClosesEveryClinicAndReportsFailures(t *testing.T) {
	forEachAdapter(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		var clinics []directory.Clinic
		for i := range 13 {
			clinics = append(clinics, putClinic(t, st, directory.Clinic{ID: fmt.Sprintf("clinic_%02d", i)}))
		}
		broken := clinics[5].ID
		clk := clock.NewFake(time.Date(2025, 2, 1, 2, 0, 0, 0, time.UTC))
		ledger := billing.Ledger{Store: failingFor{Store: st, clinicID: broken}, Clock: clk}
		run := billing.MonthlyClose{Ledger: ledger, Clinics: directory.Directory{Store: st}}

		err := run.Run(ctx)
		if !errors.Is(err, errStoreDown) {
			t.Fatalf("Run = %v; want the broken clinic's failure", err)
		}
		jan := mustMonth(t, "2025-01")
		for _, c := range clinics {
			rec, err := newLedger(st, clk).Month(ctx, c.ID, jan)
			if err != nil {
				t.Fatal(err)
			}
			if want := c.ID != broken; rec.Closed() != want {
				t.Errorf("%s: January closed = %v, want %v", c.ID, rec.Closed(), want)
			}
		}

		healed := billing.MonthlyClose{Ledger: newLedger(st, clk), Clinics: directory.Directory{Store: st}}
		if err := healed.Run(ctx); err != nil {
			t.Fatal(err)
		}
		first, err := newLedger(st, clk).Month(ctx, clinics[0].ID, jan)
		if err != nil || !first.Closed() {
			t.Fatalf("%s after the healed run: %+v, %v", clinics[0].ID, first, err)
		}
		clk.Advance(time.Minute)
		if err := healed.Run(ctx); err != nil {
			t.Fatal(err)
		}
		for _, c := range clinics {
			rec, err := newLedger(st, clk).Month(ctx, c.ID, jan)
			if err != nil || !rec.Closed() {
				t.Errorf("%s after the healed runs: %+v, %v", c.ID, rec, err)
			}
		}
		again, err := newLedger(st, clk).Month(ctx, clinics[0].ID, jan)
		if err != nil || !again.ClosedAt.Equal(*first.ClosedAt) {
			t.Errorf("a second run closed %s again: %v then %v (%v)", clinics[0].ID, first.ClosedAt, again.ClosedAt, err)
		}
	})
}
