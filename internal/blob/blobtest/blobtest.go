package blobtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goodfaith/goodfaith/internal/blob"
)

// Run runs the conformance suite. open must return a new, empty store each
// time it is called; it is called once per subtest, and concurrently, because
// the subtests run in parallel (a few of them wait for real seconds to pass).
func Run(t *testing.T, open func(t *testing.T) blob.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s blob.Store)
	}{
		{"PutGetHead", testPutGetHead},
		{"PutWithoutRetention", testPutWithoutRetention},
		{"PutDefaultsAndEmptyBody", testPutDefaultsAndEmptyBody},
		{"PutRetainUntilInPast", testPutRetainUntilInPast},
		{"PutExisting", testPutExisting},
		{"Missing", testMissing},
		{"DeleteRetained", testDeleteRetained},
		{"DeleteUnretained", testDeleteUnretained},
		{"DeleteAfterRetention", testDeleteAfterRetention},
		{"InvalidKeys", testInvalidKeys},
		{"ConcurrentPut", testConcurrentPut},
		{"PresignPut", testPresignPut},
		{"PresignPutWrongContentType", testPresignPutWrongContentType},
		{"PresignPutWrongSize", testPresignPutWrongSize},
		{"PresignPutExisting", testPresignPutExisting},
		{"PresignGet", testPresignGet},
		{"PresignGetMissing", testPresignGetMissing},
		{"PresignExpired", testPresignExpired},
		{"PresignBadArguments", testPresignBadArguments},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

// opTimeout bounds each store call and HTTP request, so that a hung server
// fails the test instead of hanging the run.
const opTimeout = 30 * time.Second

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), opTimeout)
	t.Cleanup(cancel)
	return ctx
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// wholeSecond returns a retention date d from now, on a whole second, so
// that adapters that round to seconds store exactly it.
func wholeSecond(d time.Duration) time.Time {
	return time.Now().UTC().Add(d).Truncate(time.Second).Add(time.Second)
}

func sameSecond(a, b time.Time) bool {
	return a.Truncate(time.Second).Equal(b.Truncate(time.Second))
}

// checkObject compares an adapter's description with what was written.
func checkObject(t *testing.T, what string, got blob.Object, key string, body []byte, contentType string, retainUntil time.Time) {
	t.Helper()
	if got.Key != key {
		t.Errorf("%s: Key = %q, want %q", what, got.Key, key)
	}
	if got.SHA256 != sha256Hex(body) {
		t.Errorf("%s: SHA256 = %q, want %q", what, got.SHA256, sha256Hex(body))
	}
	if got.Size != int64(len(body)) {
		t.Errorf("%s: Size = %d, want %d", what, got.Size, len(body))
	}
	if got.ContentType != contentType {
		t.Errorf("%s: ContentType = %q, want %q", what, got.ContentType, contentType)
	}
	if retainUntil.IsZero() {
		if !got.RetainUntil.IsZero() {
			t.Errorf("%s: RetainUntil = %v, want none", what, got.RetainUntil)
		}
	} else if !sameSecond(got.RetainUntil, retainUntil) {
		t.Errorf("%s: RetainUntil = %v, want %v", what, got.RetainUntil, retainUntil)
	}
}

func mustPut(t *testing.T, s blob.Store, in blob.PutInput) blob.Object {
	t.Helper()
	obj, err := s.Put(ctxFor(t), in)
	if err != nil {
		t.Fatalf("Put(%q): %v", in.Key, err)
	}
	return obj
}

// mustGetBody reads key and fails the test unless it holds want.
func mustGetBody(t *testing.T, s blob.Store, key string, want []byte) blob.Object {
	t.Helper()
	got, obj, err := s.Get(ctxFor(t), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Get(%q) returned %d bytes (sha256 %s), want %d bytes (sha256 %s)",
			key, len(got), sha256Hex(got), len(want), sha256Hex(want))
	}
	return obj
}

func mustBeMissing(t *testing.T, s blob.Store, key string) {
	t.Helper()
	if _, err := s.Head(ctxFor(t), key); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Head(%q) = %v, want ErrNotFound", key, err)
	}
	if _, _, err := s.Get(ctxFor(t), key); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Get(%q) = %v, want ErrNotFound", key, err)
	}
}

func testPutGetHead(t *testing.T, s blob.Store) {
	const key = "pso/2026/01/pso-123.pdf"
	body := randomBytes(t, 70_000)
	retain := wholeSecond(time.Hour)
	put := mustPut(t, s, blob.PutInput{Key: key, Body: body, ContentType: "application/pdf", RetainUntil: retain})
	checkObject(t, "Put", put, key, body, "application/pdf", retain)

	got := mustGetBody(t, s, key, body)
	checkObject(t, "Get", got, key, body, "application/pdf", retain)
	if got.VersionID != put.VersionID {
		t.Errorf("Get: VersionID = %q, want %q from Put", got.VersionID, put.VersionID)
	}

	head, err := s.Head(ctxFor(t), key)
	if err != nil {
		t.Fatalf("Head: %v", err)
	}
	checkObject(t, "Head", head, key, body, "application/pdf", retain)
	if head.VersionID != put.VersionID {
		t.Errorf("Head: VersionID = %q, want %q from Put", head.VersionID, put.VersionID)
	}
}

func testPutWithoutRetention(t *testing.T, s blob.Store) {
	const key = "notes/plain.json"
	body := []byte(`{"hello":"world"}`)
	put := mustPut(t, s, blob.PutInput{Key: key, Body: body, ContentType: "application/json"})
	checkObject(t, "Put", put, key, body, "application/json", time.Time{})
	head, err := s.Head(ctxFor(t), key)
	if err != nil {
		t.Fatalf("Head: %v", err)
	}
	checkObject(t, "Head", head, key, body, "application/json", time.Time{})
}

func testPutDefaultsAndEmptyBody(t *testing.T, s blob.Store) {
	const key = "empty"
	put := mustPut(t, s, blob.PutInput{Key: key})
	checkObject(t, "Put", put, key, nil, "application/octet-stream", time.Time{})
	got := mustGetBody(t, s, key, nil)
	checkObject(t, "Get", got, key, nil, "application/octet-stream", time.Time{})
}

func testPutRetainUntilInPast(t *testing.T, s blob.Store) {
	const key = "past/retention"
	_, err := s.Put(ctxFor(t), blob.PutInput{Key: key, Body: []byte("x"), ContentType: "text/plain", RetainUntil: time.Now().Add(-time.Hour)})
	if err == nil || errors.Is(err, blob.ErrExists) {
		t.Fatalf("Put with RetainUntil an hour ago = %v, want an error other than ErrExists", err)
	}
	mustBeMissing(t, s, key)
}

func testPutExisting(t *testing.T, s blob.Store) {
	for _, retain := range []time.Time{{}, wholeSecond(time.Hour)} {
		key := "exists/retained-" + strconv.FormatBool(!retain.IsZero())
		original := randomBytes(t, 1000)
		mustPut(t, s, blob.PutInput{Key: key, Body: original, ContentType: "application/pdf", RetainUntil: retain})
		_, err := s.Put(ctxFor(t), blob.PutInput{Key: key, Body: []byte("replacement"), ContentType: "text/plain"})
		if !errors.Is(err, blob.ErrExists) {
			t.Fatalf("second Put(%q) = %v, want ErrExists", key, err)
		}
		got := mustGetBody(t, s, key, original)
		checkObject(t, "Get after refused overwrite", got, key, original, "application/pdf", retain)
	}
}

func testMissing(t *testing.T, s blob.Store) {
	mustBeMissing(t, s, "no/such/object")
	if err := s.Delete(ctxFor(t), "no/such/object"); err != nil {
		t.Fatalf("Delete of a missing key = %v, want nil", err)
	}
}

func testDeleteRetained(t *testing.T, s blob.Store) {
	const key = "retained/pso.jws"
	body := []byte("eyJhbGciOiJFUzI1NiJ9.e30.sig")
	retain := wholeSecond(time.Hour)
	mustPut(t, s, blob.PutInput{Key: key, Body: body, ContentType: "application/jose", RetainUntil: retain})
	if err := s.Delete(ctxFor(t), key); !errors.Is(err, blob.ErrRetained) {
		t.Fatalf("Delete before RetainUntil = %v, want ErrRetained", err)
	}
	got := mustGetBody(t, s, key, body)
	checkObject(t, "Get after refused delete", got, key, body, "application/jose", retain)
}

func testDeleteUnretained(t *testing.T, s blob.Store) {
	const key = "scratch/upload.bin"
	mustPut(t, s, blob.PutInput{Key: key, Body: []byte("first"), ContentType: "application/octet-stream"})
	if err := s.Delete(ctxFor(t), key); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	mustBeMissing(t, s, key)
	if err := s.Delete(ctxFor(t), key); err != nil {
		t.Fatalf("second Delete = %v, want nil", err)
	}
	// The key is free again once its object is gone.
	mustPut(t, s, blob.PutInput{Key: key, Body: []byte("second"), ContentType: "application/octet-stream"})
	mustGetBody(t, s, key, []byte("second"))
}

func testDeleteAfterRetention(t *testing.T, s blob.Store) {
	const key = "short/retention"
	retain := wholeSecond(2 * time.Second)
	mustPut(t, s, blob.PutInput{Key: key, Body: []byte("brief"), ContentType: "text/plain", RetainUntil: retain})
	if err := s.Delete(ctxFor(t), key); !errors.Is(err, blob.ErrRetained) {
		t.Fatalf("Delete before RetainUntil = %v, want ErrRetained", err)
	}
	// A second of margin covers a server whose clock reads a little behind ours.
	time.Sleep(time.Until(retain.Add(time.Second)))
	if err := s.Delete(ctxFor(t), key); err != nil {
		t.Fatalf("Delete after RetainUntil: %v", err)
	}
	mustBeMissing(t, s, key)
}

// invalidKeys are refused by blob.ValidKey; the suite checks that too, so
// that a change there cannot quietly weaken this test.
var invalidKeys = []string{
	"",
	"/leading/slash",
	"..",
	"a/../b",
	"../escape",
	"a/..",
	".",
	"a/./b",
	"a//b",
	"trailing/",
	"back\\slash",
	"space here",
	"percent%2e%2e",
	"query?x=1",
	"hash#frag",
	"colon:name",
	"tab\tname",
	"new\nline",
	"nul\x00byte",
	"ünicode",
	strings.Repeat("k", 513),
}

func testInvalidKeys(t *testing.T, s blob.Store) {
	ctx := ctxFor(t)
	for _, key := range invalidKeys {
		if blob.ValidKey(key) {
			t.Fatalf("blob.ValidKey(%q) = true; the suite expects it to be invalid", key)
		}
		if _, err := s.Put(ctx, blob.PutInput{Key: key, Body: []byte("x"), ContentType: "text/plain"}); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Put(%q) = %v, want ErrInvalidKey", key, err)
		}
		if _, _, err := s.Get(ctx, key); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Get(%q) = %v, want ErrInvalidKey", key, err)
		}
		if _, err := s.Head(ctx, key); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Head(%q) = %v, want ErrInvalidKey", key, err)
		}
		if err := s.Delete(ctx, key); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Delete(%q) = %v, want ErrInvalidKey", key, err)
		}
		if _, err := s.PresignPut(ctx, key, "text/plain", 1, time.Minute); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("PresignPut(%q) = %v, want ErrInvalidKey", key, err)
		}
		if _, err := s.PresignGet(ctx, key, time.Minute); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("PresignGet(%q) = %v, want ErrInvalidKey", key, err)
		}
	}
	// The longest valid key works, so the limit is where the port says. Its
	// segments stay under 256 bytes: MinIO, unlike S3, keeps objects as
	// files and refuses longer path segments.
	long := strings.Repeat(strings.Repeat("k", 127)+"/", 4)[:511] + "k"
	if len(long) != 512 || !blob.ValidKey(long) {
		t.Fatalf("the suite's longest key is %d bytes, valid=%v", len(long), blob.ValidKey(long))
	}
	mustPut(t, s, blob.PutInput{Key: long, Body: []byte("x"), ContentType: "text/plain"})
	mustGetBody(t, s, long, []byte("x"))
}

func testConcurrentPut(t *testing.T, s blob.Store) {
	const key = "race/one-winner"
	const writers = 10
	bodies := make([][]byte, writers)
	for i := range bodies {
		bodies[i] = []byte(fmt.Sprintf("writer %d %x", i, randomBytes(t, 16)))
	}
	ctx := ctxFor(t)
	errs := make([]error, writers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = s.Put(ctx, blob.PutInput{Key: key, Body: bodies[i], ContentType: "text/plain"})
		}()
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner < 0:
			winner = i
		case err == nil:
			t.Fatalf("writers %d and %d both succeeded", winner, i)
		case !errors.Is(err, blob.ErrExists):
			t.Fatalf("writer %d: %v, want nil or ErrExists", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no writer succeeded")
	}
	mustGetBody(t, s, key, bodies[winner])
}

// do performs a presigned request the way a browser would: the given
// headers as given, the body, nothing else. net/http takes Content-Length
// from the request's ContentLength field, not from the header map, and the
// Host from the URL.
func do(t *testing.T, p blob.PresignedRequest, body []byte) (int, []byte) {
	t.Helper()
	var rd io.Reader = http.NoBody
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctxFor(t), p.Method, p.URL, rd)
	if err != nil {
		t.Fatalf("building the presigned request: %v", err)
	}
	for name, values := range p.Headers {
		switch http.CanonicalHeaderKey(name) {
		case "Content-Length":
			// The body decides the length sent; the tests that send the
			// wrong size do so on purpose.
		case "Host":
			req.Host = values[0]
		default:
			req.Header[http.CanonicalHeaderKey(name)] = values
		}
	}
	req.ContentLength = int64(len(body))
	client := &http.Client{Timeout: opTimeout}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", p.Method, p.URL, err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the response of %s %s: %v", p.Method, p.URL, err)
	}
	return resp.StatusCode, got
}

func refused(status int) bool { return status >= 400 && status < 500 }

func checkPresigned(t *testing.T, p blob.PresignedRequest, method string, ttl time.Duration, before time.Time) {
	t.Helper()
	if p.Method != method {
		t.Errorf("Method = %q, want %q", p.Method, method)
	}
	if p.URL == "" {
		t.Error("URL is empty")
	}
	// Adapters sign whole seconds, so ExpiresAt may fall up to a second short.
	if p.ExpiresAt.Before(before.Add(ttl-time.Second)) || p.ExpiresAt.After(time.Now().Add(ttl+time.Second)) {
		t.Errorf("ExpiresAt = %v, want about %v after %v", p.ExpiresAt, ttl, before)
	}
}

func presignPut(t *testing.T, s blob.Store, key, contentType string, size int64, ttl time.Duration) blob.PresignedRequest {
	t.Helper()
	before := time.Now()
	p, err := s.PresignPut(ctxFor(t), key, contentType, size, ttl)
	if err != nil {
		t.Fatalf("PresignPut(%q): %v", key, err)
	}
	checkPresigned(t, p, http.MethodPut, ttl, before)
	if got := p.Headers.Get("Content-Type"); got != contentType {
		t.Errorf("PresignPut headers: Content-Type = %q, want %q", got, contentType)
	}
	return p
}

func testPresignPut(t *testing.T, s blob.Store) {
	const key = "uploads/photo.png"
	body := randomBytes(t, 12_345)
	p := presignPut(t, s, key, "image/png", int64(len(body)), 5*time.Minute)
	if status, resp := do(t, p, body); status < 200 || status > 299 {
		t.Fatalf("presigned PUT: status %d: %s", status, resp)
	}
	head, err := s.Head(ctxFor(t), key)
	if err != nil {
		t.Fatalf("Head after presigned PUT: %v", err)
	}
	checkObject(t, "Head after presigned PUT", head, key, body, "image/png", time.Time{})
	got := mustGetBody(t, s, key, body)
	checkObject(t, "Get after presigned PUT", got, key, body, "image/png", time.Time{})
}

func testPresignPutWrongContentType(t *testing.T, s blob.Store) {
	const key = "uploads/typed.png"
	body := randomBytes(t, 100)
	p := presignPut(t, s, key, "image/png", int64(len(body)), 5*time.Minute)
	wrong := p
	wrong.Headers = p.Headers.Clone()
	wrong.Headers.Set("Content-Type", "text/html")
	if status, _ := do(t, wrong, body); !refused(status) {
		t.Fatalf("presigned PUT with Content-Type text/html: status %d, want 4xx", status)
	}
	mustBeMissing(t, s, key)
	// The URL itself was good: the request as signed still works.
	if status, resp := do(t, p, body); status < 200 || status > 299 {
		t.Fatalf("presigned PUT as signed: status %d: %s", status, resp)
	}
	mustGetBody(t, s, key, body)
}

func testPresignPutWrongSize(t *testing.T, s blob.Store) {
	const key = "uploads/sized.bin"
	body := randomBytes(t, 100)
	p := presignPut(t, s, key, "application/octet-stream", int64(len(body)), 5*time.Minute)
	for _, wrong := range [][]byte{body[:99], append(append([]byte{}, body...), 'x'), randomBytes(t, 4096)} {
		if status, _ := do(t, p, wrong); !refused(status) {
			t.Fatalf("presigned PUT of %d bytes when %d were signed: status %d, want 4xx", len(wrong), len(body), status)
		}
		mustBeMissing(t, s, key)
	}
	if status, resp := do(t, p, body); status < 200 || status > 299 {
		t.Fatalf("presigned PUT as signed: status %d: %s", status, resp)
	}
	mustGetBody(t, s, key, body)
}

func testPresignPutExisting(t *testing.T, s blob.Store) {
	const key = "uploads/taken.pdf"
	original := randomBytes(t, 200)
	mustPut(t, s, blob.PutInput{Key: key, Body: original, ContentType: "application/pdf"})
	replacement := randomBytes(t, 200)
	p := presignPut(t, s, key, "application/pdf", int64(len(replacement)), 5*time.Minute)
	if status, _ := do(t, p, replacement); !refused(status) {
		t.Fatalf("presigned PUT to a taken key: status %d, want 4xx", status)
	}
	got := mustGetBody(t, s, key, original)
	checkObject(t, "Get after refused presigned PUT", got, key, original, "application/pdf", time.Time{})
}

func testPresignGet(t *testing.T, s blob.Store) {
	const key = "pso/download.pdf"
	body := randomBytes(t, 50_000)
	mustPut(t, s, blob.PutInput{Key: key, Body: body, ContentType: "application/pdf", RetainUntil: wholeSecond(time.Hour)})
	before := time.Now()
	p, err := s.PresignGet(ctxFor(t), key, 10*time.Minute)
	if err != nil {
		t.Fatalf("PresignGet: %v", err)
	}
	checkPresigned(t, p, http.MethodGet, 10*time.Minute, before)
	status, got := do(t, p, nil)
	if status != http.StatusOK {
		t.Fatalf("presigned GET: status %d: %s", status, got)
	}
	if !bytes.Equal(got, body) {
		t.Fatalf("presigned GET returned %d bytes (sha256 %s), want %d (sha256 %s)", len(got), sha256Hex(got), len(body), sha256Hex(body))
	}
}

func testPresignGetMissing(t *testing.T, s blob.Store) {
	p, err := s.PresignGet(ctxFor(t), "never/written", time.Minute)
	if err != nil {
		// Refusing to presign a missing key is as good as refusing the GET.
		if !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("PresignGet of a missing key = %v, want success or ErrNotFound", err)
		}
		return
	}
	if status, _ := do(t, p, nil); !refused(status) {
		t.Fatalf("presigned GET of a missing key: status %d, want 4xx", status)
	}
}

func testPresignExpired(t *testing.T, s blob.Store) {
	const getKey, putKey = "expiring/get", "expiring/put"
	mustPut(t, s, blob.PutInput{Key: getKey, Body: []byte("soon gone"), ContentType: "text/plain"})
	getReq, err := s.PresignGet(ctxFor(t), getKey, time.Second)
	if err != nil {
		t.Fatalf("PresignGet: %v", err)
	}
	body := []byte("too late")
	putReq, err := s.PresignPut(ctxFor(t), putKey, "text/plain", int64(len(body)), time.Second)
	if err != nil {
		t.Fatalf("PresignPut: %v", err)
	}
	// Servers compare whole seconds; a second of margin past the later
	// expiry makes both certainly expired.
	last := getReq.ExpiresAt
	if putReq.ExpiresAt.After(last) {
		last = putReq.ExpiresAt
	}
	if wait := time.Until(last.Add(time.Second)); wait > 10*time.Second {
		t.Fatalf("a one-second presigned URL expires at %v, more than 10s from now", last)
	} else {
		time.Sleep(wait)
	}
	if status, _ := do(t, getReq, nil); !refused(status) {
		t.Errorf("expired presigned GET: status %d, want 4xx", status)
	}
	if status, _ := do(t, putReq, body); !refused(status) {
		t.Errorf("expired presigned PUT: status %d, want 4xx", status)
	}
	mustBeMissing(t, s, putKey)
}

func testPresignBadArguments(t *testing.T, s blob.Store) {
	ctx := ctxFor(t)
	for _, size := range []int64{0, -1} {
		if _, err := s.PresignPut(ctx, "ok/key", "text/plain", size, time.Minute); err == nil {
			t.Errorf("PresignPut with size %d succeeded, want an error", size)
		}
	}
	for _, ttl := range []time.Duration{0, -time.Minute, time.Millisecond} {
		if _, err := s.PresignPut(ctx, "ok/key", "text/plain", 10, ttl); err == nil {
			t.Errorf("PresignPut with ttl %v succeeded, want an error", ttl)
		}
		if _, err := s.PresignGet(ctx, "ok/key", ttl); err == nil {
			t.Errorf("PresignGet with ttl %v succeeded, want an error", ttl)
		}
	}
}
