// Package dirblob is the blob port on a local directory: the embedded home
// of object storage, for the local server and small deployments.
//
// It keeps the promises S3 Object Lock keeps in AWS, so that code above the
// port behaves the same in both homes: an object is written once and never
// overwritten, and it cannot be deleted before its retain-until date.
//
// # Layout
//
// Under the directory, objects/ holds one shard directory per first two hex
// digits of the SHA-256 of the key. For a key whose hash is H it holds
//
//	H.json         the sidecar: key, content type, size, sha256, retain-until,
//	               and the name of the data file
//	H.<random>.data  the bytes
//
// File names come from the hash, never from the key, so no key can name a
// path outside the directory, and keys such as "a" and "a/b" do not collide
// as a file and a directory would.
//
// The sidecar is the commit point. Put writes the data file under a fresh
// name, writes the sidecar to tmp/, and then hard-links it into place:
// link(2) fails if the target exists, which is what makes Put write-once and
// exactly one of several concurrent Puts win (rename(2) would silently
// replace). A reader that finds the sidecar therefore always finds complete
// data. A crash leaves at most an unreferenced data or temporary file, which
// is never read.
//
// Delete removes the sidecar, then the data. Puts and Deletes of one key are
// serialised inside the Store so that a Delete can never remove an object a
// concurrent Put just committed after the Delete checked retention; a
// directory must therefore be used by one Store (one process) at a time.
//
// Files are created 0600 and directories 0700: the objects are PHI.
//
// # Presigned URLs
//
// The Store is configured with the base URL where its Handler is mounted and
// an HMAC secret. A presigned URL is BASE/KEY with the expiry, and for a PUT
// the content type and size, in the query, and an HMAC-SHA256 over the
// method, key, content type, size and expiry. The Handler checks the
// signature in constant time, then the expiry against the Store's clock;
// a PUT must carry exactly the signed Content-Type and Content-Length (never
// more than the configured cap), and is refused with 409 if the key is taken.
package dirblob
