// Package webhook tells clinics' servers what happened to their exams:
// endpoints (one URL and secret per clinic), events derived from the change
// feed (exam.submitted, exam.decided, pso.signed), a durable delivery queue
// kept in the store, the worker that sends each delivery with retries
// (exponential backoff with jitter, for a day) into a dead-letter list the
// clinic can replay, and the signature check receivers run.
//
// # Delivery
//
// The events consumer writes one delivery record per event, keyed by the
// event id, so a redelivered change enqueues nothing new. The worker (a
// ticker on one machine, a schedule in AWS) takes due deliveries from the
// store's queue index under a lease, POSTs them, and records the outcome;
// the API never sends a webhook, so a slow receiver cannot slow it. Each
// event is delivered at least once: receivers de-duplicate on the event id
// (the body's "id" and the Goodfaith-Event-Id header).
//
// # Verifying a delivery (the recipe)
//
// Every delivery carries
//
//	Goodfaith-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>
//
// where the HMAC is keyed by the endpoint's secret exactly as PUT
// /v1/clinic/webhook returned it (the whole "whsec_…" string, as bytes) and
// computed over "<t>.<raw body>". To verify:
//
//  1. Read the raw body bytes; do not re-encode the JSON.
//  2. Split the header on "," into key=value pairs; take t and every v1.
//  3. Compute hex(HMAC-SHA256(secret, t + "." + body)) and compare it with
//     each v1 in constant time; one must match.
//  4. Reject the request when t is more than 5 minutes from your clock, so
//     a captured request cannot be replayed later.
//  5. Answer 2xx quickly (within 10 seconds); anything else is retried.
//     De-duplicate on the event id: a delivery may arrive more than once.
//
// In Go, Verify does steps 2–4.
package webhook
