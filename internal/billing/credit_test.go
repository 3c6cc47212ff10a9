package billing_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/goodfaith/goodfaith/internal/audit"
	"github.com/goodfaith/goodfaith/internal/billing"
	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/directory"
	"github.com/goodfaith/goodfaith/internal/ids"
	"github.com/goodfaith/goodfaith/internal/store"
)

// A credit and its audit record commit in one transaction: the record names
// the month the line landed in; and when the record cannot be written (here
// one with its key exists already), neither is the credit — no line, no
// month total, no idempotency marker — on both store adapters.
func TestCreditAndItsAuditRecordCommitTogether(t *testing.T) {
	forEachAdapter(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		at := time.Date(2025, 6, 30, 23, 30, 0, 0, time.UTC) // July in UTC, still June 30 in New York
		clinic := putClinic(t, st, directory.Clinic{ID: "clinic_a", Timezone: "America/New_York"})
		ledger := newLedger(st, clock.NewFake(at))
		auditOf := func(id string) func(billing.Line) audit.Record {
			return func(ln billing.Line) audit.Record {
				return audit.Record{ID: id, At: at, Actor: "dir_1", Role: "director", Action: "billing.credit",
					ExamID: "CLINIC#" + ln.ClinicID, Reason: ln.ID + " in " + ln.Month}
			}
		}

		line, err := ledger.Credit(ctx, clinic, billing.CreditInput{ID: "adj_audited00001", AmountCents: 700, Reason: "goodwill", By: "dir_1", Audit: auditOf("aud_one")}, ids.Random{})
		if err != nil {
			t.Fatal(err)
		}
		recs, err := audit.ForExam(ctx, st, "CLINIC#clinic_a")
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 1 || recs[0].Reason != "adj_audited00001 in 2025-06" || line.Month != "2025-06" {
			t.Fatalf("audit records %+v for line in %s; want one naming the line and its month", recs, line.Month)
		}

		// A credit whose audit record collides with an existing one.
		before := billingItems(t, st)
		in := billing.CreditInput{ID: "adj_unaudited001", AmountCents: 900, Reason: "goodwill", By: "dir_1", Audit: auditOf("aud_one")}
		if _, err := ledger.Credit(ctx, clinic, in, ids.Random{}); err == nil {
			t.Fatal("a credit whose audit record could not be written was posted")
		}
		after := billingItems(t, st)
		if len(after) != len(before) {
			var added []string
			for k := range after {
				if _, ok := before[k]; !ok {
					added = append(added, k)
				}
			}
			t.Fatalf("the failed credit wrote %s", strings.Join(added, ", "))
		}
		for k, v := range before {
			if after[k] != v {
				t.Fatalf("the failed credit changed %s", k)
			}
		}
		s, err := ledger.Statement(ctx, clinic, mustMonth(t, "2025-06"))
		if err != nil || s.AmountCents != -700 || len(s.Credits()) != 1 {
			t.Fatalf("statement %+v, %v; want the audited credit only", s, err)
		}
		// Nothing claimed the id: the same credit with a fresh audit record
		// goes through.
		in.Audit = auditOf("aud_two")
		if _, err := ledger.Credit(ctx, clinic, in, ids.Random{}); err != nil {
			t.Fatalf("retry: %v", err)
		}
		if recs, _ := audit.ForExam(ctx, st, "CLINIC#clinic_a"); len(recs) != 2 {
			t.Fatalf("%d audit records, want 2", len(recs))
		}
	})
}
