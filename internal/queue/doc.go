// Package queue is the port of a message queue with delayed delivery and
// visibility timeouts, shaped after Amazon SQS (standard queues): messages
// are delivered at least once, in no particular order, each no sooner than
// its delay; a received message stays invisible for the visibility timeout
// and comes back unless it is deleted.
//
// Adapters: Memory (in-process, on an injectable clock, for the local
// server and tests) and sqsqueue (Amazon SQS, and ElasticMQ in tests). The
// same conformance test (conformance_test.go) runs against both.
//
// A queue carries only short instructions ("attempt webhook delivery X");
// the records they refer to stay in the store, which remains the source of
// truth, so a lost or duplicated message delays or repeats work but never
// loses it.
package queue
