// Package blobtest is the conformance suite of the blob port.
//
// Every blob.Store adapter runs Run from its own tests, so that the S3
// adapter used in AWS and the directory adapter used locally are held to the
// same behaviour: code above the port must not be able to tell them apart.
//
// The suite pins down what the port's comments leave open, so that both
// adapters agree on it:
//
//   - RetainUntil is compared at second precision (S3 Object Lock dates are
//     not finer than that); adapters may round it up, never down.
//   - An empty ContentType is stored as "application/octet-stream".
//   - Put with a RetainUntil in the past fails and stores nothing: S3 refuses
//     such a retention date.
//   - Delete of a missing key succeeds, so that a retried delete is harmless.
//   - A presigned PUT is write-once like Put: it is refused when the key
//     already holds an object.
//   - PresignPut refuses a size below 1 and PresignPut/PresignGet refuse a
//     ttl below one second: presigned URLs expire in whole seconds, and S3
//     does not sign a zero Content-Length.
//
// The suite uses the wall clock: the expiry and retention tests wait for a
// few real seconds, so the stores open returns must read the real time. Tests
// of an adapter's injected clock belong in the adapter's own tests.
package blobtest
