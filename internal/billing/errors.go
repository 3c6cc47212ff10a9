package billing

import "errors"

var (
	// ErrAlreadyPosted is returned by Ledger.Post when the line's unique key
	// (the exam of a usage line, the id of a credit) was posted before;
	// nothing was written. The meter treats it as success.
	ErrAlreadyPosted = errors.New("billing: already posted")

	// ErrContention is returned when a post or a close kept losing races
	// for a month's record; the caller retries later (the change feed
	// redelivers the batch).
	ErrContention = errors.New("billing: month record kept changing; try again")

	// ErrLedgerMismatch is returned when a month's lines do not add up to
	// its record, or a closed month's statement no longer hashes to what
	// the close froze: the ledger was changed behind the code's back.
	ErrLedgerMismatch = errors.New("billing: ledger does not reconcile")
)
