// Package webhook tells clinics' servers what happened to their exams:
// endpoints (one URL and secret per clinic), events derived from the change
// feed (exam.submitted, exam.decided, pso.signed), durable delivery records
// kept in the store with their jobs on a message queue, the worker that
// sends each delivery with retries
// (exponential backoff with jitter, for a day) into a dead-letter list the
// clinic can replay, and the signature check receivers run.
//
// # Delivery
//
// The events consumer writes one delivery record per event, keyed by the
// event id, so a redelivered change enqueues nothing new. The record is the
// source of truth: status, attempts and their log, the next attempt's time,
// the dead-letter list and replays all live there. What moves work along is
// a job on a message queue (internal/queue: SQS in AWS, consumed by the
// webhooks function through internal/lambdasqs; an in-process queue on one
// machine, consumed by Worker.Run): a small message "attempt delivery X,
// due at T". Writing the record sends the first job; each failed attempt
// sends the job of the next one, delayed until it is due; a replay sends one
// at once. The API never sends a webhook, so a slow receiver cannot slow it.
//
// Jobs and records stay consistent without transactions between the two:
//
//   - Duplicates. Queues deliver at least once, and a change redelivered to
//     the events consumer sends the first job again while the delivery was
//     never attempted. An attempt first takes a lease on the record with a
//     conditional write (the record's version), so of two copies of a job
//     handled at once only one sends; a copy handled later finds the
//     delivery moved on (its due time no longer the job's) and is dropped.
//     So each attempt is made once, and each event reaches the receiver at
//     least once; receivers de-duplicate on the event id (the body's "id"
//     and the Goodfaith-Event-Id header).
//   - Long waits. SQS delays a message by at most 15 minutes
//     (queue.MaxDelay) and retries back off up to an hour, so a job may
//     arrive before its attempt is due; it is then sent again for the rest
//     of the wait (at most 15 minutes at a time), naming the same due time.
//     Delays are whole seconds (the backoff rounds up), so a job never
//     arrives after a due time it could have met.
//   - Lost jobs. A job can be lost: the process dies between the record's
//     write and the send, the in-process queue restarts, or an attempt dies
//     holding its lease after its job was deleted. Redrive, run every
//     minute (the webhooks function's schedule in AWS, Worker.Run's timer
//     and start-up on one machine), sends a job for every pending delivery
//     overdue by more than RedriveGrace according to the store's index of
//     due deliveries, and marks the record (job_sent_at) so that it sends
//     the next one only after another RedriveGrace. The grace outlasts the
//     queue's visibility timeout (JobVisibilityTimeout, held to
//     template.yaml) plus an attempt's lease, so Redrive does not race a
//     failed job coming back by itself. A job that was only late becomes a
//     duplicate, which the lease makes harmless. This is also why a failed
//     send after the record is written (a replay's, say) is logged, not
//     returned: the call did its work and Redrive sends the job.
//   - Crashed attempts. While an attempt holds the lease, the record's next
//     attempt time is the lease's end; a job arriving meanwhile is sent again
//     for then, and at the lease's end the next job (or Redrive) takes the
//     delivery over and attempts it again.
//
// Each event is thus delivered at least once, retried with exponential
// backoff and jitter for a day from its first attempt (or replay), and then
// dead-lettered for the clinic to see and replay.
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
//  6. De-duplicate on the event id (the Goodfaith-Event-Id header, the
//     body's "id"): the same event may arrive more than once, even after
//     you answered 2xx. Delivery is at least once: if your answer came back
//     but recording the attempt failed on our side, or your answer was lost
//     on the way, the event is sent again with the same id (and a higher
//     Goodfaith-Delivery-Attempt). Process an id once and answer 2xx to its
//     repeats.
//
// In Go, Verify does steps 2–4.
package webhook
