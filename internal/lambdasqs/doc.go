// Package lambdasqs feeds queue messages to their handler from a Lambda
// function subscribed to an SQS queue, as a polling consumer
// (webhook.Worker.Drain) feeds them on one machine: the same
// queue.Message values, the same at-least-once contract.
//
// The event source mapping must report batch item failures
// (FunctionResponseTypes: [ReportBatchItemFailures]). Handler answers the
// message ids whose handling failed; Lambda deletes the others and lets the
// failed ones come back after the queue's visibility timeout (and, after
// maxReceiveCount receives, moves them to the queue's dead-letter queue).
// An empty list is success. A record that cannot be named (no messageId) or
// that is not from SQS fails the whole invocation, so Lambda retries the
// batch rather than deleting what was not handled.
//
// WithSchedule lets one function also take EventBridge scheduled events
// (lambdaschedule), for a job that complements the queue: the webhooks
// function's re-drive of deliveries whose job was lost.
package lambdasqs
