package billing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/directory"
	"github.com/goodfaith/goodfaith/internal/store"
)

// Currency of every amount.
const Currency = "USD"

// Kinds of ledger lines.
const (
	KindUsage  = "usage"
	KindCredit = "credit"
)

// Statuses of a month.
const (
	MonthOpen   = "open"
	MonthClosed = "closed"
)

// Line is one entry of the append-only ledger. Amounts are integer cents;
// a credit's is negative.
type Line struct {
	// ID is the exam id of a usage line, the adjustment id of a credit.
	ID       string `json:"id"`
	Kind     string `json:"kind"`
	ClinicID string `json:"clinic_id"`
	ExamID   string `json:"exam_id,omitempty"`
	Outcome  string `json:"outcome,omitempty"`
	// At is when the exam was decided (usage) or the credit was granted.
	At time.Time `json:"at"`
	// OriginalMonth is the month of At in the clinic's timezone; Month is
	// the month the line was posted to, later when OriginalMonth had closed.
	OriginalMonth string    `json:"original_month"`
	Month         string    `json:"month"`
	AmountCents   int64     `json:"amount_cents"`
	Currency      string    `json:"currency"`
	Reason        string    `json:"reason,omitempty"`
	By            string    `json:"by,omitempty"`
	PostedAt      time.Time `json:"posted_at"`
}

// Late reports whether the line landed in a month after its own.
func (l Line) Late() bool { return l.Month != l.OriginalMonth }

// MonthRecord is a clinic's month: open until the close freezes it, with
// running totals every post updates.
type MonthRecord struct {
	ClinicID    string `json:"clinic_id"`
	Month       string `json:"month"`
	Status      string `json:"status"`
	UsageCount  int64  `json:"usage_count"`
	LineCount   int64  `json:"line_count"`
	AmountCents int64  `json:"amount_cents"`
	// ClosedAt and StatementSHA256 (hex SHA-256 of the statement CSV) are
	// set by the close.
	ClosedAt        *time.Time `json:"closed_at,omitempty"`
	StatementSHA256 string     `json:"statement_sha256,omitempty"`

	version int64 // 0: no record stored yet
}

// Closed reports whether the month is frozen.
func (r MonthRecord) Closed() bool { return r.Status == MonthClosed }

func markerKey(examID string) store.Key { return store.Key{PK: "METER#" + examID, SK: "METER"} }
func creditKey(id string) store.Key     { return store.Key{PK: "CREDIT#" + id, SK: "CREDIT"} }
func monthsPK(clinicID string) string   { return "LEDGER#" + clinicID }
func monthKey(clinicID string, m Month) store.Key {
	return store.Key{PK: monthsPK(clinicID), SK: "MONTH#" + m.String()}
}
func linesPK(clinicID, month string) string { return "LEDGER#" + clinicID + "#" + month }

// uniqueKey is what makes a line post once: the exam of a usage line, the
// id of a credit.
func (l Line) uniqueKey() store.Key {
	if l.Kind == KindUsage {
		return markerKey(l.ExamID)
	}
	return creditKey(l.ID)
}

func (l Line) item() store.Item {
	data, err := json.Marshal(l)
	if err != nil {
		panic("billing: cannot encode line: " + err.Error()) // plain data; a failure is a programming error
	}
	return store.Item{PK: linesPK(l.ClinicID, l.Month), SK: "L#" + store.SortableTime(l.At) + "#" + l.ID, Version: 1, Data: data}
}

func (r MonthRecord) item() store.Item {
	data, err := json.Marshal(r)
	if err != nil {
		panic("billing: cannot encode month: " + err.Error())
	}
	m, _ := ParseMonth(r.Month)
	k := monthKey(r.ClinicID, m)
	return store.Item{PK: k.PK, SK: k.SK, Version: r.version + 1, Data: data}
}

// writeOp writes next over r as read: created if r was absent, else at r's
// version.
func (r MonthRecord) writeOp(next MonthRecord) store.Op {
	next.version = r.version
	it := next.item()
	if r.version == 0 {
		return store.Op{Put: &it, Cond: store.IfAbsent}
	}
	return store.Op{Put: &it, Cond: store.IfVersion(r.version)}
}

// maxAttempts bounds the retries of a post or close losing races.
const maxAttempts = 50

// maxMonthsAhead bounds the walk from a closed month to the next open one.
const maxMonthsAhead = 1200

// Ledger reads and writes clinics' ledgers.
type Ledger struct {
	Store store.Store
	Clock clock.Clock
}

// Month reads a clinic's month; a month never written is open and empty.
func (l Ledger) Month(ctx context.Context, clinicID string, m Month) (MonthRecord, error) {
	it, err := l.Store.Get(ctx, monthKey(clinicID, m))
	if errors.Is(err, store.ErrNotFound) {
		return MonthRecord{ClinicID: clinicID, Month: m.String(), Status: MonthOpen}, nil
	}
	if err != nil {
		return MonthRecord{}, err
	}
	var r MonthRecord
	if err := json.Unmarshal(it.Data, &r); err != nil {
		return MonthRecord{}, err
	}
	r.version = it.Version
	return r, nil
}

// Months lists the clinic's stored month records, oldest first.
func (l Ledger) Months(ctx context.Context, clinicID string) ([]MonthRecord, error) {
	var out []MonthRecord
	q := store.Query{Index: store.Primary, PK: monthsPK(clinicID), SKPrefix: "MONTH#"}
	for {
		page, err := l.Store.Query(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, it := range page.Items {
			var r MonthRecord
			if err := json.Unmarshal(it.Data, &r); err != nil {
				return nil, err
			}
			r.version = it.Version
			out = append(out, r)
		}
		if page.Cursor == "" {
			return out, nil
		}
		q.Cursor = page.Cursor
	}
}

// Lines lists the lines posted to a clinic's month, in time order.
func (l Ledger) Lines(ctx context.Context, clinicID string, m Month) ([]Line, error) {
	out := []Line{}
	q := store.Query{Index: store.Primary, PK: linesPK(clinicID, m.String()), SKPrefix: "L#"}
	for {
		page, err := l.Store.Query(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, it := range page.Items {
			var ln Line
			if err := json.Unmarshal(it.Data, &ln); err != nil {
				return nil, err
			}
			out = append(out, ln)
		}
		if page.Cursor == "" {
			return out, nil
		}
		q.Cursor = page.Cursor
	}
}

// Posted reports whether an exam's usage line exists.
func (l Ledger) Posted(ctx context.Context, examID string) (bool, error) {
	_, err := l.Store.Get(ctx, markerKey(examID))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// openMonth returns the first month from m on that is not closed.
func (l Ledger) openMonth(ctx context.Context, clinicID string, m Month) (MonthRecord, error) {
	for range maxMonthsAhead {
		r, err := l.Month(ctx, clinicID, m)
		if err != nil || !r.Closed() {
			return r, err
		}
		m = m.Next()
	}
	return MonthRecord{}, fmt.Errorf("billing: no open month within %d months after %s", maxMonthsAhead, m)
}

// post appends ln (At, Kind, ids and amount set) to the first open month
// from the month of ln.At in the clinic's timezone, exactly once per unique
// key. It returns ErrAlreadyPosted when the key was posted before. with, if
// set, gives operations to commit in the same transaction as the line as
// posted (a credit's audit record).
func (l Ledger) post(ctx context.Context, clinic directory.Clinic, ln Line, with func(Line) []store.Op) (Line, error) {
	uk := ln.uniqueKey()
	if _, err := l.Store.Get(ctx, uk); err == nil {
		return Line{}, ErrAlreadyPosted
	} else if !errors.Is(err, store.ErrNotFound) {
		return Line{}, err
	}
	loc := Location(clinic.Timezone)
	ln.ClinicID = clinic.ID
	ln.Currency = Currency
	ln.OriginalMonth = MonthOf(ln.At, loc).String()
	first, _ := ParseMonth(ln.OriginalMonth)
	for range maxAttempts {
		rec, err := l.openMonth(ctx, clinic.ID, first)
		if err != nil {
			return Line{}, err
		}
		ln.Month = rec.Month
		ln.PostedAt = l.Clock.Now().UTC()
		next := rec
		next.Status = MonthOpen
		next.LineCount++
		next.AmountCents += ln.AmountCents
		if ln.Kind == KindUsage {
			next.UsageCount++
		}
		line := ln.item()
		marker, _ := json.Marshal(map[string]string{"clinic_id": clinic.ID, "month": ln.Month, "line_sk": line.SK})
		ops := []store.Op{
			{Put: &store.Item{PK: uk.PK, SK: uk.SK, Version: 1, Data: marker}, Cond: store.IfAbsent},
			{Put: &line, Cond: store.IfAbsent},
			rec.writeOp(next),
		}
		if with != nil {
			ops = append(ops, with(ln)...)
		}
		err = l.Store.Transact(ctx, ops...)
		if err == nil {
			return ln, nil
		}
		if !errors.Is(err, store.ErrConditionFailed) {
			return Line{}, err
		}
		// Either the key was posted meanwhile, or the month changed (another
		// post, or the close): look again.
		if _, err := l.Store.Get(ctx, uk); err == nil {
			return Line{}, ErrAlreadyPosted
		} else if !errors.Is(err, store.ErrNotFound) {
			return Line{}, err
		}
	}
	return Line{}, ErrContention
}
