package blob

import (
	"context"
	"net/http"
	"time"
)

// PutInput is one object to write.
type PutInput struct {
	Key         string
	Body        []byte
	ContentType string
	// RetainUntil, if set, forbids deletion and overwrite before it
	// (S3 Object Lock in compliance mode).
	RetainUntil time.Time
}

// Object describes a stored object.
type Object struct {
	Key         string
	VersionID   string // S3 version id; empty where the adapter has none
	SHA256      string // lowercase hex of the body
	Size        int64
	ContentType string
	RetainUntil time.Time
}

// PresignedRequest is a request a browser may make without our credentials.
type PresignedRequest struct {
	URL       string
	Method    string
	Headers   http.Header // headers the caller must send as given
	ExpiresAt time.Time
}

// Store is the object-storage port.
type Store interface {
	// Put writes a new object; ErrExists if the key is taken.
	Put(ctx context.Context, in PutInput) (Object, error)
	// Get reads an object; ErrNotFound if there is none.
	Get(ctx context.Context, key string) ([]byte, Object, error)
	// Head describes an object; ErrNotFound if there is none.
	Head(ctx context.Context, key string) (Object, error)
	// Delete removes an object; ErrRetained before its retain-until.
	Delete(ctx context.Context, key string) error
	// PresignPut lets a browser upload exactly size bytes of contentType to
	// key until ttl passes.
	PresignPut(ctx context.Context, key, contentType string, size int64, ttl time.Duration) (PresignedRequest, error)
	// PresignGet lets a browser download key until ttl passes.
	PresignGet(ctx context.Context, key string, ttl time.Duration) (PresignedRequest, error)
}
