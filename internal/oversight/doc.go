// Package oversight is the medical director's hold on a clinic: the
// clinic's formulary over the product catalogue (package catalog),
// protocols and standing orders (versioned, e-signed), emergency-readiness
// attestations that expire, chart-review sampling and reviews, and adverse
// events. Service implements exam.Oversight, so exams cannot be started for
// a treatment the clinic is not ready for, and an approval cannot order a
// product the clinic may not use; the PSO cites the protocol followed.
//
// Every read and write is audited with the caller's id and role. Records
// live in the clinic's partition (PK CLINIC#<id>); another clinic's
// director finds nothing (fault.ErrNotFound).
//
// Readiness is enforced for clinics with at least one medical director on
// file; a clinic without one is reported as such (status "no_director")
// and not blocked, because nobody could attest for it. The catalogue is
// enforced for every clinic.
//
// Errors are fault kinds: fault.ErrInvalid for refused input (nothing is
// written), fault.ErrNotFound for other clinics' or missing records,
// fault.ErrConflict for a second signature or review.
package oversight
