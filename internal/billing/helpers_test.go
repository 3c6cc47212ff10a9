package billing_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goodfaith/goodfaith/internal/billing"
	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/directory"
	"github.com/goodfaith/goodfaith/internal/exam"
	"github.com/goodfaith/goodfaith/internal/store"
	"github.com/goodfaith/goodfaith/internal/store/boltstore"
	"github.com/goodfaith/goodfaith/internal/store/dynamo/dynamotest"
)

// adapter opens a fresh store of one kind.
type adapter struct {
	name string
	open func(tb testing.TB) store.Store
}

var adapters = []adapter{{"embedded", openBolt}, {"dynamodb", openDynamo}}

func forEachAdapter(t *testing.T, fn func(t *testing.T, st store.Store)) {
	for _, a := range adapters {
		t.Run(a.name, func(t *testing.T) { fn(t, a.open(t)) })
	}
}

func openBolt(tb testing.TB) store.Store {
	tb.Helper()
	st, err := boltstore.Open(filepath.Join(tb.TempDir(), "s.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

func openDynamo(tb testing.TB) store.Store { return dynamotest.Open(tb) }

// putClinic stores a clinic and returns it as the directory reads it.
func putClinic(tb testing.TB, st store.Store, c directory.Clinic) directory.Clinic {
	tb.Helper()
	if c.Name == "" {
		c.Name = "Clinic " + c.ID
	}
	if err := (directory.Directory{Store: st}).PutClinic(context.Background(), c); err != nil {
		tb.Fatal(err)
	}
	return c
}

// decided is a decided exam as the change feed carries it.
func decided(id, clinicID string, outcome exam.Outcome, at time.Time) exam.Exam {
	return exam.Exam{
		ID: id, ClinicID: clinicID, Status: exam.Decided, Outcome: outcome, State: "TX",
		Treatments: []string{"neurotoxin"}, Modality: "async", DecidedAt: &at, UpdatedAt: at, CreatedAt: at.Add(-time.Hour),
		History: []exam.Transition{},
	}
}

// change is the write that moved e from status old (claimed when empty) to
// its own.
func change(id string, old exam.Status, e exam.Exam) store.Change {
	if old == "" {
		old = exam.Claimed
	}
	before := e
	before.Status, before.Outcome, before.DecidedAt = old, "", nil
	oi, ni := exam.ToItem(before, 1), exam.ToItem(e, 2)
	return store.Change{ID: id, Key: store.Key{PK: oi.PK, SK: oi.SK}, Old: &oi, New: &ni, At: e.UpdatedAt}
}

func examID(i int) string { return fmt.Sprintf("exam_%026d", i) }

func newLedger(st store.Store, clk clock.Clock) billing.Ledger {
	return billing.Ledger{Store: st, Clock: clk}
}

// billingItems lists every item the billing package wrote.
func billingItems(t testing.TB, st store.Store) map[string]string {
	t.Helper()
	items, err := st.(store.Scanner).Scan(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, it := range items {
		if strings.HasPrefix(it.PK, "METER#") || strings.HasPrefix(it.PK, "LEDGER#") || strings.HasPrefix(it.PK, "CREDIT#") {
			out[it.PK+"|"+it.SK] = string(it.Data)
		}
	}
	return out
}

func mustMonth(t testing.TB, s string) billing.Month {
	t.Helper()
	m, err := billing.ParseMonth(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
