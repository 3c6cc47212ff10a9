// Package s3blob is the blob port on Amazon S3: the production home of PSO
// documents and uploads.
//
// The bucket must have Object Lock enabled (which also turns versioning on);
// production creates it from template.yaml, tests and local tooling with
// CreateBucket. The adapter then keeps the port's promises with S3's own
// guarantees, not with checks of its own that a race could slip past:
//
//   - Write once: Put sends If-None-Match: * so S3 refuses the write when the
//     key has a current object (412, mapped to blob.ErrExists). Presigned PUTs
//     sign the same header, so a browser cannot replace an object either.
//   - Retention: Put with RetainUntil sets Object Lock COMPLIANCE mode with
//     that date. Nobody, the root account included, can delete that object
//     version or shorten its retention before the date; Delete maps the
//     refusal to blob.ErrRetained.
//   - Integrity: Put sends the body's SHA-256 as x-amz-checksum-sha256, so S3
//     rejects a body damaged on the way, and keeps the hex digest in the
//     object's metadata (x-amz-meta-sha256), which Head returns. Get hashes
//     what it read and refuses bytes that do not match the metadata.
//   - Encryption: with Options.SSE set to aws:kms every Put and presigned PUT
//     asks for SSE-KMS under Options.KMSKeyID; otherwise the bucket's default
//     encryption applies.
//
// Objects uploaded through a presigned PUT carry no sha256 metadata (the
// browser's bytes are unknown when the URL is signed); Head then uses S3's
// stored full-object SHA-256 checksum if there is one, and otherwise reads
// the object once to hash it.
//
// Presigned URLs are SigV4 query-signed URLs. The signing time comes from
// Options.Clock, so tests can sign URLs that are already expired.
package s3blob
