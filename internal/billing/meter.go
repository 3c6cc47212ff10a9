package billing

import (
	"context"
	"errors"
	"fmt"

	"github.com/goodfaith/goodfaith/internal/directory"
	"github.com/goodfaith/goodfaith/internal/exam"
	"github.com/goodfaith/goodfaith/internal/store"
)

// ConsumerName names the meter's change-feed checkpoint.
const ConsumerName = "meter"

// Clinics finds the clinic an exam belongs to (directory.Directory).
type Clinics interface {
	Clinic(ctx context.Context, id string) (directory.Clinic, error)
}

// Meter is the change-feed consumer that charges each billable exam once.
type Meter struct {
	Ledger  Ledger
	Clinics Clinics
}

// Handle is a store.ChangeHandler. Any change showing an exam decided with
// a billable outcome posts its usage line; the ledger's marker makes
// repeats, reorderings and racing consumers post nothing more, so the
// handler needs no memory of what it saw.
func (m Meter) Handle(ctx context.Context, changes []store.Change) error {
	clinics := map[string]directory.Clinic{}
	for _, ch := range changes {
		if !exam.IsExamItem(ch.New) {
			continue
		}
		e, err := exam.FromItem(*ch.New)
		if err != nil {
			return fmt.Errorf("meter: change %s: %w", ch.ID, err)
		}
		if e.Status != exam.Decided || !e.Outcome.Billable() {
			continue
		}
		c, ok := clinics[e.ClinicID]
		if !ok {
			if c, err = m.Clinics.Clinic(ctx, e.ClinicID); err != nil {
				return fmt.Errorf("meter: clinic of exam %s: %w", e.ID, err)
			}
			clinics[e.ClinicID] = c
		}
		if _, err := m.Charge(ctx, c, e); err != nil && !errors.Is(err, ErrAlreadyPosted) {
			return fmt.Errorf("meter: exam %s: %w", e.ID, err)
		}
	}
	return nil
}

// Charge posts the usage line of a decided, billable exam at the clinic's
// price; ErrAlreadyPosted when it was charged before.
func (m Meter) Charge(ctx context.Context, c directory.Clinic, e exam.Exam) (Line, error) {
	if e.Status != exam.Decided || !e.Outcome.Billable() {
		return Line{}, fmt.Errorf("billing: exam %s is not billable (%s %s)", e.ID, e.Status, e.Outcome)
	}
	at := e.UpdatedAt
	if e.DecidedAt != nil {
		at = *e.DecidedAt
	}
	return m.Ledger.post(ctx, c, Line{
		ID: e.ID, Kind: KindUsage, ExamID: e.ID, Outcome: string(e.Outcome), At: at.UTC(), AmountCents: PriceCents(c),
	}, nil)
}

// PriceCents is what the clinic pays per billable exam.
func PriceCents(c directory.Clinic) int64 {
	if c.PriceCents > 0 {
		return c.PriceCents
	}
	return directory.DefaultPriceCents
}
