// Package billing charges clinics per exam: the meter (a change-feed
// consumer that posts one usage line per billable exam, exactly once), the
// append-only ledger of usage lines and admin credits, per-month usage and
// RFC 4180 statements, and the monthly close that freezes a month.
//
// # Exactly once
//
// A usage line is posted in one store transaction with a marker keyed by
// the exam id alone (created only if absent) and the month's record
// (written only at the version read). A redelivered or reordered change, or
// two consumers racing, find the marker and post nothing; a crash before
// the commit posts nothing, so the redelivery posts it.
//
// # Months and the close
//
// An exam belongs to the month of its decision in the clinic's timezone
// (UTC when it has none). The close freezes a month by marking its record
// closed at the version it read while the lines it read still add up to the
// record's totals; every post writes that record, so no line can land in a
// month after it is frozen. A line whose month is closed lands in the next
// open month and keeps its original decision time, shown on the statement.
//
// The store layout (single table):
//
//	METER#<exam id> / METER                  marker: the exam is charged
//	LEDGER#<clinic> / MONTH#<YYYY-MM>        month record: status, totals
//	LEDGER#<clinic>#<YYYY-MM> / L#<time>#<id> a ledger line (usage or credit)
package billing
