// Package invite lets a clinic start an exam for a patient: it pre-fills a
// draft, makes the link the patient opens to finish it, and tells the
// patient by email (and SMS when a phone is given) through the notifier
// port. Whether each message went out is kept on the invite, so a failure
// is visible to the clinic and can be retried, never silent. Each send
// round (the creation, each resend) gives its messages new ids, so the
// notifier's de-duplication never swallows a resend.
package invite
