package dirblob

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/goodfaith/goodfaith/internal/blob"
)

// Query parameters of a presigned URL.
const (
	qExpires   = "expires"   // unix seconds; the URL works before it
	qType      = "type"      // PUT only: the Content-Type the upload must carry
	qSize      = "size"      // PUT only: the exact Content-Length
	qSignature = "signature" // hex HMAC-SHA256, see sign
)

// signatureDomain starts every signed message, so that the secret signs
// nothing else by accident and the format can change under a new name.
const signatureDomain = "goodfaith-dirblob-presign-v1"

// sign returns the hex HMAC of one presigned request. Neither a key nor a
// content type can contain a newline (both are validated), so the fields
// cannot run into one another.
func (s *Store) sign(method, key, contentType, size string, expires int64) string {
	mac := hmac.New(sha256.New, s.secret)
	fmt.Fprintf(mac, "%s\n%s\n%s\n%s\n%s\n%d", signatureDomain, method, key, contentType, size, expires)
	return hex.EncodeToString(mac.Sum(nil))
}

// expiry returns when a URL presigned now for ttl expires, in whole seconds
// as it travels in the URL.
func (s *Store) expiry(ttl time.Duration) (int64, error) {
	if ttl < time.Second || ttl > MaxPresignTTL {
		return 0, fmt.Errorf("dirblob: presign ttl %v is outside [1s, %v]", ttl, MaxPresignTTL)
	}
	return s.clock.Now().Add(ttl).Unix(), nil
}

func (s *Store) objectURL(key string, q url.Values) string {
	u := *s.base
	// Keys are [A-Za-z0-9._/-], which need no escaping in a path.
	u.Path = s.base.Path + "/" + key
	u.RawQuery = q.Encode()
	return u.String()
}

// PresignPut lets a browser upload exactly size bytes of contentType to key
// through Handler until ttl passes.
func (s *Store) PresignPut(ctx context.Context, key, contentType string, size int64, ttl time.Duration) (blob.PresignedRequest, error) {
	if !blob.ValidKey(key) {
		return blob.PresignedRequest{}, fmt.Errorf("dirblob: presign put %q: %w", key, blob.ErrInvalidKey)
	}
	ct, err := blob.NormalizeContentType(contentType)
	if err != nil {
		return blob.PresignedRequest{}, err
	}
	if size < 1 || size > s.maxUpload {
		return blob.PresignedRequest{}, fmt.Errorf("dirblob: presign put %q: size %d is outside [1, %d]", key, size, s.maxUpload)
	}
	exp, err := s.expiry(ttl)
	if err != nil {
		return blob.PresignedRequest{}, err
	}
	sizeStr := strconv.FormatInt(size, 10)
	q := url.Values{
		qExpires:   {strconv.FormatInt(exp, 10)},
		qType:      {ct},
		qSize:      {sizeStr},
		qSignature: {s.sign(http.MethodPut, key, ct, sizeStr, exp)},
	}
	return blob.PresignedRequest{
		URL:       s.objectURL(key, q),
		Method:    http.MethodPut,
		Headers:   http.Header{"Content-Type": {ct}, "Content-Length": {sizeStr}},
		ExpiresAt: time.Unix(exp, 0).UTC(),
	}, nil
}

// PresignGet lets a browser download key through Handler until ttl passes.
func (s *Store) PresignGet(ctx context.Context, key string, ttl time.Duration) (blob.PresignedRequest, error) {
	if !blob.ValidKey(key) {
		return blob.PresignedRequest{}, fmt.Errorf("dirblob: presign get %q: %w", key, blob.ErrInvalidKey)
	}
	exp, err := s.expiry(ttl)
	if err != nil {
		return blob.PresignedRequest{}, err
	}
	q := url.Values{
		qExpires:   {strconv.FormatInt(exp, 10)},
		qSignature: {s.sign(http.MethodGet, key, "", "", exp)},
	}
	return blob.PresignedRequest{
		URL:       s.objectURL(key, q),
		Method:    http.MethodGet,
		Headers:   http.Header{},
		ExpiresAt: time.Unix(exp, 0).UTC(),
	}, nil
}

// Handler serves presigned GETs and PUTs. Mount it so that it sees the full
// path of the base URL, e.g. mux.Handle("/blobs/", store.Handler()) for a
// base URL ending in /blobs; do not strip the prefix.
//
// The signature is the only credential, so the handler answers any origin
// (CORS "*", no cookies): the widget uploads from a clinic's page.
func (s *Store) Handler() http.Handler {
	return http.HandlerFunc(s.serveHTTP)
}

// httpError writes the project's error shape.
func httpError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]map[string]string{
		"error": {"code": code, "message": message},
	})
}

func (s *Store) serveHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	switch r.Method {
	case http.MethodOptions:
		// CORS preflight of a cross-origin PUT with a Content-Type.
		w.Header().Set("Access-Control-Allow-Methods", "GET, PUT")
		w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
		w.Header().Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return
	case http.MethodGet, http.MethodPut:
	default:
		w.Header().Set("Allow", "GET, PUT, OPTIONS")
		httpError(w, http.StatusMethodNotAllowed, "method_not_allowed", "only GET and PUT of presigned URLs are served here")
		return
	}

	prefix := s.base.Path + "/"
	key, ok := strings.CutPrefix(r.URL.Path, prefix)
	if !ok || !blob.ValidKey(key) {
		httpError(w, http.StatusBadRequest, "invalid_key", "the path does not name a valid object key")
		return
	}

	q := r.URL.Query()
	exp, err := strconv.ParseInt(q.Get(qExpires), 10, 64)
	if err != nil {
		httpError(w, http.StatusForbidden, "signature_invalid", "the URL is not a presigned URL")
		return
	}
	var ct, size string
	if r.Method == http.MethodPut {
		ct, size = q.Get(qType), q.Get(qSize)
	}
	want := s.sign(r.Method, key, ct, size, exp)
	if !hmac.Equal([]byte(want), []byte(q.Get(qSignature))) {
		httpError(w, http.StatusForbidden, "signature_invalid", "the URL's signature does not match this request")
		return
	}
	if !s.clock.Now().Before(time.Unix(exp, 0)) {
		httpError(w, http.StatusForbidden, "expired", "the presigned URL has expired")
		return
	}

	if r.Method == http.MethodGet {
		s.serveGet(w, r, key)
		return
	}
	n, err := strconv.ParseInt(size, 10, 64)
	if err != nil || n < 1 {
		// Signed by us, so this cannot happen unless the secret leaked.
		httpError(w, http.StatusForbidden, "signature_invalid", "the signed size is not valid")
		return
	}
	s.servePut(w, r, key, ct, n)
}

func (s *Store) serveGet(w http.ResponseWriter, r *http.Request, key string) {
	body, obj, err := s.Get(r.Context(), key)
	if errors.Is(err, blob.ErrNotFound) {
		httpError(w, http.StatusNotFound, "not_found", "no object has this key")
		return
	}
	if err != nil {
		httpError(w, http.StatusInternalServerError, "internal", "the object could not be read")
		return
	}
	h := w.Header()
	h.Set("Content-Type", obj.ContentType)
	h.Set("Content-Length", strconv.FormatInt(obj.Size, 10))
	h.Set("ETag", `"`+obj.SHA256+`"`)
	// Objects hold PHI: no shared caches, and nothing the browser may sniff
	// into something else. A stored HTML or SVG file must not run script on
	// this origin, so everything but PDF (whose viewer a sandbox breaks) is
	// sandboxed.
	h.Set("Cache-Control", "private, no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if !strings.HasPrefix(obj.ContentType, "application/pdf") {
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
	}
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

func (s *Store) servePut(w http.ResponseWriter, r *http.Request, key, ct string, size int64) {
	if got := r.Header.Get("Content-Type"); got != ct {
		httpError(w, http.StatusBadRequest, "content_type_mismatch", fmt.Sprintf("Content-Type must be %q as signed", ct))
		return
	}
	if size > s.maxUpload {
		httpError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("uploads are limited to %d bytes", s.maxUpload))
		return
	}
	if r.ContentLength < 0 {
		httpError(w, http.StatusLengthRequired, "length_required", "the upload must carry a Content-Length")
		return
	}
	if r.ContentLength != size {
		httpError(w, http.StatusBadRequest, "size_mismatch", fmt.Sprintf("Content-Length must be %d as signed", size))
		return
	}
	// Refuse a taken key before reading the body; Put decides a race.
	if _, err := s.Head(r.Context(), key); err == nil {
		httpError(w, http.StatusConflict, "exists", "the key already holds an object")
		return
	}
	// net/http stops the body at Content-Length; MaxBytesReader is the
	// hard cap should that ever not hold.
	body := make([]byte, size)
	if _, err := io.ReadFull(http.MaxBytesReader(w, r.Body, size), body); err != nil {
		httpError(w, http.StatusBadRequest, "size_mismatch", fmt.Sprintf("the body must be exactly %d bytes", size))
		return
	}
	obj, err := s.Put(r.Context(), blob.PutInput{Key: key, Body: body, ContentType: ct})
	if errors.Is(err, blob.ErrExists) {
		httpError(w, http.StatusConflict, "exists", "the key already holds an object")
		return
	}
	if err != nil {
		httpError(w, http.StatusInternalServerError, "internal", "the object could not be stored")
		return
	}
	w.Header().Set("ETag", `"`+obj.SHA256+`"`)
	w.WriteHeader(http.StatusOK)
}
