package billing_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/goodfaith/goodfaith/internal/billing"
	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/directory"
	"github.com/goodfaith/goodfaith/internal/exam"
	"github.com/goodfaith/goodfaith/internal/golden"
	"github.com/goodfaith/goodfaith/internal/ids"
	"github.com/goodfaith/goodfaith/internal/store"
)

func TestMonthOfInTheClinicsTimezone(t *testing.T) {
	chicago := billing.Location("America/Chicago")
	cases := []struct {
		at   string
		loc  *time.Location
		want string
	}{
		{"2025-01-31T23:59:59Z", time.UTC, "2025-01"},
		{"2025-02-01T00:00:00Z", time.UTC, "2025-02"},
		{"2025-02-01T05:59:59Z", chicago, "2025-01"}, // 23:59:59 CST on Jan 31
		{"2025-02-01T06:00:00Z", chicago, "2025-02"}, // midnight CST
		{"2025-04-01T04:59:59Z", chicago, "2025-03"}, // CDT: UTC-5
		{"2025-04-01T05:00:00Z", chicago, "2025-04"},
		{"2025-01-01T05:59:59Z", chicago, "2024-12"}, // across the year
		{"2025-01-01T06:00:00Z", chicago, "2025-01"},
	}
	for _, c := range cases {
		at, _ := time.Parse(time.RFC3339, c.at)
		if got := billing.MonthOf(at, c.loc).String(); got != c.want {
			t.Errorf("MonthOf(%s, %s) = %s, want %s", c.at, c.loc, got, c.want)
		}
	}
	if billing.Location("") != time.UTC {
		t.Error("a clinic without a timezone bills in UTC")
	}
}

func TestParseMonth(t *testing.T) {
	for _, ok := range []string{"2025-01", "2025-12", "2030-06"} {
		if m, err := billing.ParseMonth(ok); err != nil || m.String() != ok {
			t.Errorf("ParseMonth(%q) = %v, %v", ok, m, err)
		}
	}
	for _, bad := range []string{"", "2025-13", "2025-1", "25-01", "2025-01-01", "1999-12", "2025/01", "2025-00"} {
		if _, err := billing.ParseMonth(bad); err == nil {
			t.Errorf("ParseMonth(%q) accepted", bad)
		}
	}
	dec := mustMonth(t, "2024-12")
	if dec.Next().String() != "2025-01" || dec.Next().Prev() != dec || !dec.Before(dec.Next()) || dec.Next().Before(dec) {
		t.Error("month arithmetic across the year is wrong")
	}
}

// The exam belongs to the month of its decision where the clinic is: a
// Chicago clinic's exam decided at 05:30 UTC on 1 February is January's.
func TestMeterPostsToTheMonthOfTheClinicsTimezone(t *testing.T) {
	forEachAdapter(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		chi := putClinic(t, st, directory.Clinic{ID: "clinic_chi", Timezone: "America/Chicago"})
		utc := putClinic(t, st, directory.Clinic{ID: "clinic_utc"})
		clk := clock.NewFake(time.Date(2025, 2, 1, 12, 0, 0, 0, time.UTC))
		m := billing.Meter{Ledger: newLedger(st, clk), Clinics: directory.Directory{Store: st}}
		edge := time.Date(2025, 2, 1, 5, 30, 0, 0, time.UTC)
		for i, c := range []struct {
			clinic directory.Clinic
			at     time.Time
			want   string
		}{
			{chi, edge, "2025-01"},
			{chi, edge.Add(30 * time.Minute), "2025-02"},
			{utc, edge, "2025-02"},
			{utc, time.Date(2025, 1, 31, 23, 59, 59, 0, time.UTC), "2025-01"},
		} {
			l, err := m.Charge(ctx, c.clinic, decided(examID(i), c.clinic.ID, exam.Approved, c.at))
			if err != nil {
				t.Fatal(err)
			}
			if l.Month != c.want || l.OriginalMonth != c.want {
				t.Errorf("%s at %s: posted to %s (own %s), want %s", c.clinic.ID, c.at, l.Month, l.OriginalMonth, c.want)
			}
		}
		for _, c := range []struct {
			clinic directory.Clinic
			month  string
			count  int64
		}{{chi, "2025-01", 1}, {chi, "2025-02", 1}, {utc, "2025-01", 1}, {utc, "2025-02", 1}} {
			s, err := newLedger(st, clk).Statement(ctx, c.clinic, mustMonth(t, c.month))
			if err != nil || s.UsageCount != c.count {
				t.Errorf("%s %s: %d exams, %v", c.clinic.ID, c.month, s.UsageCount, err)
			}
		}
	})
}

func TestCloseFreezesAndLateExamsLandInTheNextOpenMonth(t *testing.T) {
	forEachAdapter(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		clinic := putClinic(t, st, directory.Clinic{ID: "clinic_chi", Timezone: "America/Chicago"})
		clk := clock.NewFake(time.Date(2025, 1, 20, 12, 0, 0, 0, time.UTC))
		ledger := newLedger(st, clk)
		m := billing.Meter{Ledger: ledger, Clinics: directory.Directory{Store: st}}
		jan, feb := mustMonth(t, "2025-01"), mustMonth(t, "2025-02")
		if _, err := m.Charge(ctx, clinic, decided(examID(1), clinic.ID, exam.Approved, time.Date(2025, 1, 20, 12, 0, 0, 0, time.UTC))); err != nil {
			t.Fatal(err)
		}

		// At 00:30 on 1 February in Chicago, within the grace, January stays open.
		clk.Set(time.Date(2025, 2, 1, 6, 30, 0, 0, time.UTC))
		closed, err := ledger.CloseDue(ctx, clinic, clk.Now(), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if rec, _ := ledger.Month(ctx, clinic.ID, jan); rec.Closed() {
			t.Fatalf("January closed within the grace (closed %v)", closed)
		}
		// At 01:30 it closes.
		clk.Set(time.Date(2025, 2, 1, 7, 30, 0, 0, time.UTC))
		if _, err := ledger.CloseDue(ctx, clinic, clk.Now(), time.Hour); err != nil {
			t.Fatal(err)
		}
		janRec, err := ledger.Month(ctx, clinic.ID, jan)
		if err != nil || !janRec.Closed() || janRec.StatementSHA256 == "" {
			t.Fatalf("January after the close: %+v, %v", janRec, err)
		}
		frozen, err := ledger.Statement(ctx, clinic, jan)
		if err != nil {
			t.Fatal(err)
		}
		frozenCSV := frozen.CSV()
		// Closing again changes nothing.
		if again, err := ledger.Close(ctx, clinic, jan); err != nil || *again.ClosedAt != *janRec.ClosedAt {
			t.Fatalf("second close: %+v, %v", again, err)
		}

		// An exam decided on 31 January reaches the meter late.
		lateAt := time.Date(2025, 2, 1, 5, 0, 0, 0, time.UTC) // 23:00 CST, 31 January
		l, err := m.Charge(ctx, clinic, decided(examID(2), clinic.ID, exam.Deferred, lateAt))
		if err != nil {
			t.Fatal(err)
		}
		if l.Month != "2025-02" || l.OriginalMonth != "2025-01" || !l.Late() || !l.At.Equal(lateAt) {
			t.Fatalf("late line = %+v", l)
		}
		after, err := ledger.Statement(ctx, clinic, jan)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(after.CSV(), frozenCSV) {
			t.Fatal("a closed month's statement changed")
		}
		febSt, err := ledger.Statement(ctx, clinic, feb)
		if err != nil {
			t.Fatal(err)
		}
		rows := readCSV(t, febSt.CSV())
		if len(rows) != 3 || rows[1][0] != examID(2) || rows[1][2] != "2025-01-31" || rows[1][4] != "decided in 2025-01, after that month closed" {
			t.Fatalf("February statement = %q", rows)
		}
		// A credit can no more land in a closed month.
		cr, err := ledger.Credit(ctx, clinic, billing.CreditInput{AmountCents: 500, Reason: "goodwill", By: "admin@goodfaith"}, ids.Random{})
		if err != nil || cr.Month != "2025-02" {
			t.Fatalf("credit = %+v, %v", cr, err)
		}
	})
}

func readCSV(t testing.TB, b []byte) [][]string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatalf("statement is not CSV: %v\n%s", err, b)
	}
	return rows
}

// TestStatementCSVGolden pins the statement format: a header, one line
// per exam (the exam id first), credits, a late exam, and the total line.
func TestStatementCSVGolden(t *testing.T) {
	st := openBolt(t)
	ctx := context.Background()
	clinic := putClinic(t, st, directory.Clinic{ID: "clinic_glow", PriceCents: 2799, Timezone: "America/Chicago"})
	clk := clock.NewFake(time.Date(2025, 1, 10, 9, 0, 0, 0, time.UTC))
	ledger := newLedger(st, clk)
	m := billing.Meter{Ledger: ledger, Clinics: directory.Directory{Store: st}}
	charge := func(i int, o exam.Outcome, at time.Time) {
		t.Helper()
		if _, err := m.Charge(ctx, clinic, decided(examID(i), clinic.ID, o, at)); err != nil {
			t.Fatal(err)
		}
	}
	charge(1, exam.Approved, time.Date(2025, 1, 10, 9, 0, 0, 0, time.UTC))
	charge(2, exam.Denied, time.Date(2025, 1, 31, 17, 15, 0, 0, time.UTC))
	if _, err := ledger.Close(ctx, clinic, mustMonth(t, "2025-01")); err != nil {
		t.Fatal(err)
	}
	clk.Set(time.Date(2025, 2, 3, 15, 0, 0, 0, time.UTC))
	charge(3, exam.Deferred, time.Date(2025, 2, 1, 5, 45, 0, 0, time.UTC)) // late: 31 January in Chicago
	charge(4, exam.Approved, time.Date(2025, 2, 2, 16, 0, 0, 0, time.UTC))
	clk.Set(time.Date(2025, 2, 4, 10, 0, 0, 0, time.UTC))
	if _, err := ledger.Credit(ctx, clinic, billing.CreditInput{ID: "adj_goodwill0001", AmountCents: 2799, Reason: `=HYPERLINK("x"), "duplicate" exam`, By: "ops@goodfaith"}, ids.Random{}); err != nil {
		t.Fatal(err)
	}
	s, err := ledger.Statement(ctx, clinic, mustMonth(t, "2025-02"))
	if err != nil {
		t.Fatal(err)
	}
	got := s.CSV()
	golden.Check(t, filepath.Join("testdata", "statement-2025-02.golden.csv"), got)
	// It reconciles: the lines sum to the total line, which is the last column.
	rows := readCSV(t, got)
	var sum int64
	for _, r := range rows[1 : len(rows)-1] {
		v, _ := strconv.ParseInt(r[len(r)-1], 10, 64)
		sum += v
	}
	last := rows[len(rows)-1]
	if last[0] != "total" || last[len(last)-1] != strconv.FormatInt(sum, 10) || sum != s.AmountCents || sum != 2*2799-2799 {
		t.Fatalf("total line %q, lines sum to %d, statement %d", last, sum, s.AmountCents)
	}
	if !bytes.Contains(got, []byte("\r\n")) {
		t.Fatal("RFC 4180 lines end in CRLF")
	}
}

func TestCreditValidationAndIdempotency(t *testing.T) {
	st := openBolt(t)
	ctx := context.Background()
	clinic := putClinic(t, st, directory.Clinic{ID: "clinic_a"})
	ledger := newLedger(st, clock.NewFake(time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)))
	before := billingItems(t, st)
	for name, in := range map[string]billing.CreditInput{
		"zero":      {AmountCents: 0, Reason: "x", By: "a"},
		"negative":  {AmountCents: -5, Reason: "x", By: "a"},
		"huge":      {AmountCents: billing.MaxCreditCents + 1, Reason: "x", By: "a"},
		"no reason": {AmountCents: 5, Reason: "  ", By: "a"},
		"no admin":  {AmountCents: 5, Reason: "x"},
		"bad id":    {ID: "exam_123456789", AmountCents: 5, Reason: "x", By: "a"},
	} {
		if _, err := ledger.Credit(ctx, clinic, in, ids.Random{}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if len(billingItems(t, st)) != len(before) {
		t.Fatal("a refused credit wrote to the ledger")
	}
	in := billing.CreditInput{ID: "adj_once00000001", AmountCents: 100, Reason: "sorry", By: "ops"}
	if _, err := ledger.Credit(ctx, clinic, in, ids.Random{}); err != nil {
		t.Fatal(err)
	}
	if _, err := ledger.Credit(ctx, clinic, in, ids.Random{}); !errors.Is(err, billing.ErrAlreadyPosted) {
		t.Fatalf("repeat: %v", err)
	}
	s, err := ledger.Statement(ctx, clinic, mustMonth(t, "2025-06"))
	if err != nil || s.AmountCents != -100 || len(s.Credits()) != 1 || len(s.Usage()) != 0 {
		t.Fatalf("statement = %+v, %v", s, err)
	}
}
