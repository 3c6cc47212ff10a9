package billing

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/goodfaith/goodfaith/internal/directory"
	"github.com/goodfaith/goodfaith/internal/parallel"
	"github.com/goodfaith/goodfaith/internal/store"
)

// DefaultCloseGrace is how long after a month ends its close waits, so
// that exams decided in its last moments reach the ledger first (the change
// feed lags by seconds). Later ones land in the next month anyway.
const DefaultCloseGrace = time.Hour

// Close freezes a clinic's month: it marks the record closed, with the hash
// of its statement, at the version it read while the lines it read add up
// to that version's totals. A closed month is returned as is.
func (l Ledger) Close(ctx context.Context, c directory.Clinic, m Month) (MonthRecord, error) {
	for range maxAttempts {
		rec, err := l.Month(ctx, c.ID, m)
		if err != nil || rec.Closed() {
			return rec, err
		}
		lines, err := l.Lines(ctx, c.ID, m)
		if err != nil {
			return MonthRecord{}, err
		}
		st := build(c, m, MonthClosed, lines)
		if st.UsageCount != rec.UsageCount || st.AmountCents != rec.AmountCents || int64(len(lines)) != rec.LineCount {
			continue // a post committed between the two reads
		}
		now := l.Clock.Now().UTC()
		next := rec
		next.Status, next.ClosedAt, next.StatementSHA256 = MonthClosed, &now, st.SHA256()
		err = l.Store.Transact(ctx, rec.writeOp(next))
		if err == nil {
			next.version = rec.version + 1
			return next, nil
		}
		if !errors.Is(err, store.ErrConditionFailed) {
			return MonthRecord{}, err
		}
	}
	return MonthRecord{}, ErrContention
}

// CloseDue closes, for one clinic, every month that ended at least grace
// before now in the clinic's timezone and is still open: the month before
// the current one even when nothing was posted to it (so that a late exam
// lands in an open month, not a past one), and any older month with an open
// record. It returns the months it closed.
func (l Ledger) CloseDue(ctx context.Context, c directory.Clinic, now time.Time, grace time.Duration) ([]Month, error) {
	loc := Location(c.Timezone)
	current := MonthOf(now.Add(-grace), loc)
	due := []Month{}
	recs, err := l.Months(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	prevSeen := false
	for _, r := range recs {
		m, err := ParseMonth(r.Month)
		if err != nil {
			return nil, fmt.Errorf("billing: month record %q of %s: %w", r.Month, c.ID, err)
		}
		prevSeen = prevSeen || m == current.Prev()
		if !r.Closed() && m.Before(current) {
			due = append(due, m)
		}
	}
	if !prevSeen {
		due = append(due, current.Prev())
	}
	var closed []Month
	for _, m := range due {
		if _, err := l.Close(ctx, c, m); err != nil {
			return closed, fmt.Errorf("billing: close %s %s: %w", c.ID, m, err)
		}
		closed = append(closed, m)
	}
	return closed, nil
}

// ClinicLister lists every clinic (directory.Directory).
type ClinicLister interface {
	Clinics(ctx context.Context) ([]directory.Clinic, error)
}

// MonthlyClose is the scheduled job (EventBridge in AWS, a ticker on one
// machine) closing every clinic's due months. Running it twice, or on two
// machines at once, closes each month once.
type MonthlyClose struct {
	Ledger  Ledger
	Clinics ClinicLister
	Grace   time.Duration // default DefaultCloseGrace
}

// closeParallelism is how many clinics a run closes at once: each clinic's
// close is a few reads and writes of its own items, and a run made one
// clinic after another would wait a round trip per clinic.
const closeParallelism = 8

// Run closes what is due now, a few clinics at once; it goes on past a
// clinic that fails and reports every failure.
func (j MonthlyClose) Run(ctx context.Context) error {
	grace := j.Grace
	if grace == 0 {
		grace = DefaultCloseGrace
	}
	clinics, err := j.Clinics.Clinics(ctx)
	if err != nil {
		return err
	}
	now := j.Ledger.Clock.Now()
	return parallel.Each(ctx, len(clinics), closeParallelism, func(ctx context.Context, i int) error {
		_, err := j.Ledger.CloseDue(ctx, clinics[i], now, grace)
		return err
	})
}
