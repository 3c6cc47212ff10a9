package billing

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/goodfaith/goodfaith/internal/audit"
	"github.com/goodfaith/goodfaith/internal/directory"
	"github.com/goodfaith/goodfaith/internal/fault"
	"github.com/goodfaith/goodfaith/internal/ids"
	"github.com/goodfaith/goodfaith/internal/store"
)

// Limits of a credit.
const (
	MaxCreditCents  = 10_000_000 // $100,000: anything larger is a typo
	MaxReasonLength = 500
	creditIDPrefix  = "adj"
)

// CreditInput is an admin's credit to a clinic.
type CreditInput struct {
	// ID makes the credit idempotent: a second credit with the same id
	// posts nothing. Empty: a new id.
	ID          string
	AmountCents int64 // positive; posted as a negative line
	// ExamID, optional, is the exam the credit is for; the caller checks
	// that it is the clinic's.
	ExamID string
	Reason string
	By     string // the admin granting it
	// Audit, if set, builds the audit record of the credit from the line as
	// posted (its month is known only then); the record is written in the
	// same store transaction as the line, so there is never a credit
	// without its audit record, nor a record of a credit that was not made.
	Audit func(Line) audit.Record
}

// Credit posts a credit to the clinic's current open month. A repeated id
// returns ErrAlreadyPosted and writes nothing.
func (l Ledger) Credit(ctx context.Context, c directory.Clinic, in CreditInput, gen ids.Generator) (Line, error) {
	in.Reason = strings.TrimSpace(in.Reason)
	switch {
	case in.AmountCents <= 0 || in.AmountCents > MaxCreditCents:
		return Line{}, fault.Invalid("invalid_amount", "amount_cents", "a credit is a positive number of cents up to 10,000,000")
	case in.Reason == "":
		return Line{}, fault.Invalid("reason_required", "reason", "say why the clinic is credited")
	case utf8.RuneCountInString(in.Reason) > MaxReasonLength:
		return Line{}, fault.Invalid("too_long", "reason", "at most 500 characters")
	case strings.TrimSpace(in.By) == "":
		return Line{}, fault.Invalid("admin_required", "by", "name the admin granting the credit")
	}
	if in.ID == "" {
		in.ID = gen.New(creditIDPrefix)
	} else if !ids.Valid(in.ID, creditIDPrefix) {
		return Line{}, fault.Invalid("invalid_id", "id", "a credit id looks like adj_…")
	}
	var with func(Line) []store.Op
	if in.Audit != nil {
		with = func(ln Line) []store.Op { return []store.Op{in.Audit(ln).Op()} }
	}
	return l.post(ctx, c, Line{
		ID: in.ID, Kind: KindCredit, ExamID: in.ExamID, At: l.Clock.Now().UTC(), AmountCents: -in.AmountCents, Reason: in.Reason, By: in.By,
	}, with)
}
