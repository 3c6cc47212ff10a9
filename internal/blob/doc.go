// Package blob is the object-storage port: write-once objects with a
// retention date, reads, and presigned URLs for browsers.
//
// Adapters: S3 with Object Lock and SSE-KMS in AWS (package s3blob), and a
// local directory that refuses overwrite and early deletion (package
// dirblob). Package blobtest holds the conformance suite both pass.
package blob
