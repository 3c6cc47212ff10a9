// Package lambdastream feeds the change-feed handlers (store.ChangeHandler)
// from a Lambda function subscribed to the table's DynamoDB stream, as
// store.ChangeFeed.Consume feeds them on the embedded store: same changes
// (dynamo.ChangesFromEvent), same order, same at-least-once contract.
//
// The event source mapping must report batch item failures
// (FunctionResponseTypes: [ReportBatchItemFailures]). The handler then
// answers which records were not processed, and Lambda checkpoints before
// the lowest sequence number reported and retries from it; an empty list is
// success. See "Configuring partial batch response with DynamoDB and
// Lambda" in the Lambda developer guide.
//
// What Handler does with one event:
//
//  1. It converts the records one by one, in order. The first record that
//     cannot be converted (for example a MODIFY without its old image) ends
//     the batch there: the records before it are handled, and it and every
//     later record are reported as failures, so Lambda retries them, then
//     bisects, and after the retry limit sends the batch's description to
//     the on-failure destination.
//  2. It calls the handler once with every change (the feed's own checkpoint
//     records are left out by the conversion). On success the whole event
//     is done.
//  3. On an error it finds where the batch fails by calling the handler
//     again one change at a time, in order — safe because change handlers
//     are idempotent, and it lets the changes before the failure be
//     checkpointed instead of retried forever. The first change that fails
//     again marks the failing position; its record and every later record
//     are reported. If every change succeeds on its own (the error was
//     transient) nothing is reported. A context that ends stops the search
//     at the current change.
//
// A record to report that has no sequence number cannot be named, so the
// handler then returns an error instead, and Lambda retries the whole
// batch.
//
// Sequence runs several handlers over the same event, in order, for a
// function that hosts more than one consumer: each later handler sees only
// the records every earlier one processed, and the earliest failing
// position of any of them is reported.
package lambdastream
