package dirblob_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goodfaith/goodfaith/internal/blob"
	"github.com/goodfaith/goodfaith/internal/blob/blobtest"
	"github.com/goodfaith/goodfaith/internal/blob/dirblob"
	"github.com/goodfaith/goodfaith/internal/clock"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef-test-secret")

// serve starts a loopback server for the store New builds and returns the
// store and the server's base URL. New needs the base URL before the
// handler exists, so the listener comes first.
func serve(t *testing.T, dir string, opts dirblob.Options) (*dirblob.Store, string) {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String() + "/blobs"
	opts.BaseURL = base
	if opts.Secret == nil {
		opts.Secret = testSecret
	}
	s, err := dirblob.New(dir, opts)
	if err != nil {
		srv.Listener.Close()
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/blobs/", s.Handler())
	srv.Config.Handler = mux
	srv.Start()
	t.Cleanup(srv.Close)
	return s, base
}

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store {
		s, _ := serve(t, t.TempDir(), dirblob.Options{})
		return s
	})
}

var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func do(t *testing.T, method, rawURL string, header http.Header, body []byte) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader = http.NoBody
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, rawURL, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		if k != "Content-Length" {
			req.Header[k] = v
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func TestPresignExpiresByInjectedClock(t *testing.T) {
	fake := clock.NewFake(epoch)
	s, _ := serve(t, t.TempDir(), dirblob.Options{Clock: fake})
	ctx := t.Context()
	if _, err := s.Put(ctx, blob.PutInput{Key: "k", Body: []byte("data"), ContentType: "text/plain"}); err != nil {
		t.Fatal(err)
	}
	get, err := s.PresignGet(ctx, "k", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if !get.ExpiresAt.Equal(epoch.Add(time.Minute)) {
		t.Fatalf("ExpiresAt = %v, want %v", get.ExpiresAt, epoch.Add(time.Minute))
	}
	put, err := s.PresignPut(ctx, "up", "text/plain", 4, time.Minute)
	if err != nil {
		t.Fatal(err)
	}

	fake.Advance(59 * time.Second)
	if resp, b := do(t, get.Method, get.URL, get.Headers, nil); resp.StatusCode != http.StatusOK || string(b) != "data" {
		t.Fatalf("GET a second before expiry: %d %q", resp.StatusCode, b)
	}
	fake.Advance(time.Second)
	if resp, b := do(t, get.Method, get.URL, get.Headers, nil); resp.StatusCode != http.StatusForbidden || !strings.Contains(string(b), `"expired"`) {
		t.Fatalf("GET at expiry: %d %s, want 403 expired", resp.StatusCode, b)
	}
	if resp, b := do(t, put.Method, put.URL, put.Headers, []byte("late")); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("PUT at expiry: %d %s, want 403", resp.StatusCode, b)
	}
	if _, err := s.Head(ctx, "up"); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Head after refused PUT = %v, want ErrNotFound", err)
	}
}

func TestRetentionByInjectedClock(t *testing.T) {
	fake := clock.NewFake(epoch)
	s, _ := serve(t, t.TempDir(), dirblob.Options{Clock: fake})
	ctx := t.Context()
	retain := epoch.Add(24 * time.Hour).Add(300 * time.Millisecond)
	obj, err := s.Put(ctx, blob.PutInput{Key: "pso/1.jws", Body: []byte("jws"), ContentType: "application/jose", RetainUntil: retain})
	if err != nil {
		t.Fatal(err)
	}
	// Rounded up to the second, never down.
	if want := epoch.Add(24*time.Hour + time.Second); !obj.RetainUntil.Equal(want) {
		t.Fatalf("RetainUntil = %v, want %v", obj.RetainUntil, want)
	}
	fake.Set(obj.RetainUntil.Add(-time.Nanosecond))
	if err := s.Delete(ctx, "pso/1.jws"); !errors.Is(err, blob.ErrRetained) {
		t.Fatalf("Delete just before retain-until = %v, want ErrRetained", err)
	}
	fake.Set(obj.RetainUntil)
	if err := s.Delete(ctx, "pso/1.jws"); err != nil {
		t.Fatalf("Delete at retain-until: %v", err)
	}
	if _, err := s.Head(ctx, "pso/1.jws"); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Head after Delete = %v, want ErrNotFound", err)
	}
}

func TestTamperedSignatures(t *testing.T) {
	s, base := serve(t, t.TempDir(), dirblob.Options{})
	ctx := t.Context()
	if _, err := s.Put(ctx, blob.PutInput{Key: "secret/a", Body: []byte("A"), ContentType: "text/plain"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, blob.PutInput{Key: "secret/b", Body: []byte("B"), ContentType: "text/plain"}); err != nil {
		t.Fatal(err)
	}
	get, err := s.PresignGet(ctx, "secret/a", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	put, err := s.PresignPut(ctx, "up/x", "image/png", 3, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	other, err := dirblob.New(t.TempDir(), dirblob.Options{BaseURL: base, Secret: bytes.Repeat([]byte("z"), 32)})
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := other.PresignGet(ctx, "secret/a", time.Minute)
	if err != nil {
		t.Fatal(err)
	}

	edit := func(raw string, fn func(u *url.URL, q url.Values)) string {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		fn(u, q)
		u.RawQuery = q.Encode()
		return u.String()
	}
	flip := func(sig string) string {
		if sig[0] == '0' {
			return "1" + sig[1:]
		}
		return "0" + sig[1:]
	}
	cases := []struct {
		name   string
		method string
		url    string
		header http.Header
		body   []byte
	}{
		{"flipped signature", "GET", edit(get.URL, func(_ *url.URL, q url.Values) { q.Set("signature", flip(q.Get("signature"))) }), nil, nil},
		{"no signature", "GET", edit(get.URL, func(_ *url.URL, q url.Values) { q.Del("signature") }), nil, nil},
		{"later expiry", "GET", edit(get.URL, func(_ *url.URL, q url.Values) { q.Set("expires", "99999999999") }), nil, nil},
		{"other key", "GET", edit(get.URL, func(u *url.URL, _ url.Values) { u.Path = strings.Replace(u.Path, "secret/a", "secret/b", 1) }), nil, nil},
		{"other secret", "GET", foreign.URL, nil, nil},
		{"GET URL used to PUT", "PUT", get.URL, http.Header{"Content-Type": {"text/plain"}}, []byte("evil")},
		{"PUT URL with a larger signed size", "PUT", edit(put.URL, func(_ *url.URL, q url.Values) { q.Set("size", "4") }), http.Header{"Content-Type": {"image/png"}}, []byte("four")},
		{"PUT URL with another signed type", "PUT", edit(put.URL, func(_ *url.URL, q url.Values) { q.Set("type", "text/html") }), http.Header{"Content-Type": {"text/html"}}, []byte("<s>")},
		{"PUT URL used to GET", "GET", put.URL, nil, nil},
	}
	for _, tc := range cases {
		resp, b := do(t, tc.method, tc.url, tc.header, tc.body)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: status %d %s, want 403", tc.name, resp.StatusCode, b)
		}
		if bytes.Contains(b, []byte("A")) && tc.method == "GET" && resp.StatusCode == 200 {
			t.Errorf("%s: leaked the object", tc.name)
		}
	}
	if _, err := s.Head(ctx, "up/x"); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("a tampered PUT stored an object: %v", err)
	}
	// The untampered URLs still work, so the refusals above were the edits'.
	if resp, b := do(t, get.Method, get.URL, get.Headers, nil); resp.StatusCode != 200 || string(b) != "A" {
		t.Fatalf("untampered GET: %d %q", resp.StatusCode, b)
	}
}

func TestHandlerPutChecks(t *testing.T) {
	s, _ := serve(t, t.TempDir(), dirblob.Options{MaxUploadSize: 1024})
	ctx := t.Context()
	if _, err := s.PresignPut(ctx, "big", "image/png", 1025, time.Minute); err == nil {
		t.Fatal("PresignPut above MaxUploadSize succeeded")
	}
	put, err := s.PresignPut(ctx, "up/y", "image/png", 5, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if got := put.Headers.Get("Content-Length"); got != "5" {
		t.Fatalf("Content-Length header = %q, want 5", got)
	}

	// A body of unknown length (chunked) is refused before it is read.
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, put.URL, io.NopCloser(strings.NewReader("hello")))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "image/png")
	req.ContentLength = -1
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusLengthRequired {
		t.Fatalf("chunked PUT: status %d, want 411", resp.StatusCode)
	}

	// No Content-Type at all.
	if resp, b := do(t, "PUT", put.URL, nil, []byte("hello")); resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "content_type_mismatch") {
		t.Fatalf("PUT without Content-Type: %d %s", resp.StatusCode, b)
	}
	if resp, b := do(t, "PUT", put.URL, put.Headers, []byte("hello")); resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT as signed: %d %s", resp.StatusCode, b)
	}
	// The same URL again: the key is taken now.
	if resp, b := do(t, "PUT", put.URL, put.Headers, []byte("HELLO")); resp.StatusCode != http.StatusConflict || !strings.Contains(string(b), `"exists"`) {
		t.Fatalf("second PUT: %d %s, want 409 exists", resp.StatusCode, b)
	}
	if resp, _ := do(t, "DELETE", put.URL, nil, nil); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("DELETE: status %d, want 405", resp.StatusCode)
	}
	resp, _ = do(t, "OPTIONS", put.URL, http.Header{"Origin": {"https://clinic.example"}, "Access-Control-Request-Method": {"PUT"}}, nil)
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "PUT") {
		t.Fatalf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
}

func TestHandlerServesSafeHeaders(t *testing.T) {
	s, _ := serve(t, t.TempDir(), dirblob.Options{})
	ctx := t.Context()
	if _, err := s.Put(ctx, blob.PutInput{Key: "page.html", Body: []byte("<script>alert(1)</script>"), ContentType: "text/html"}); err != nil {
		t.Fatal(err)
	}
	get, err := s.PresignGet(ctx, "page.html", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	resp, _ := do(t, get.Method, get.URL, get.Headers, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("GET: %d", resp.StatusCode)
	}
	for k, want := range map[string]string{
		"Content-Type":            "text/html",
		"X-Content-Type-Options":  "nosniff",
		"Cache-Control":           "private, no-store",
		"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
}

// TestPathTraversal sends paths that would escape the directory if keys
// were file names, and checks that nothing outside it is touched.
func TestPathTraversal(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "store")
	s, base := serve(t, dir, dirblob.Options{})
	secret := filepath.Join(parent, "secret.txt")
	if err := os.WriteFile(secret, []byte("outside"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	for _, key := range []string{"../secret.txt", "../../etc/passwd", "a/../../secret.txt", "/etc/passwd", "..", "a/./b"} {
		if _, err := s.Put(ctx, blob.PutInput{Key: key, Body: []byte("x")}); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Put(%q) = %v, want ErrInvalidKey", key, err)
		}
		if _, _, err := s.Get(ctx, key); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Get(%q) = %v, want ErrInvalidKey", key, err)
		}
	}

	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{
		"/blobs/../secret.txt",
		"/blobs/%2e%2e/secret.txt",
		"/blobs/a/%2E%2E/%2E%2E/secret.txt",
		"/blobs/..%2fsecret.txt",
		"/blobs//etc/passwd",
		"/blobs/a\\..\\secret.txt",
	} {
		// Raw requests, so that no client cleans the path first.
		conn, err := net.Dial("tcp", u.Host)
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.WriteString(conn, "GET "+path+"?expires=99999999999&signature=00 HTTP/1.1\r\nHost: "+u.Host+"\r\nConnection: close\r\n\r\n")
		if err != nil {
			t.Fatal(err)
		}
		resp, err := io.ReadAll(conn)
		conn.Close()
		if err != nil {
			t.Fatal(err)
		}
		status := strings.SplitN(string(resp), " ", 3)
		if len(status) < 2 || status[1] == "200" || bytes.Contains(resp, []byte("outside")) {
			t.Errorf("GET %s answered %q", path, resp)
		}
	}

	// Keys that look like nested paths are stored inside dir, under hashed
	// names; "a" and "a/b" can both exist.
	for _, key := range []string{"a", "a/b", "a/b/c"} {
		if _, err := s.Put(ctx, blob.PutInput{Key: key, Body: []byte(key)}); err != nil {
			t.Fatalf("Put(%q): %v", key, err)
		}
	}
	for _, key := range []string{"a", "a/b", "a/b/c"} {
		b, _, err := s.Get(ctx, key)
		if err != nil || string(b) != key {
			t.Fatalf("Get(%q) = %q, %v", key, b, err)
		}
	}
	entries, err := os.ReadDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		t.Fatalf("the store's parent holds %d entries, want store/ and secret.txt only", len(entries))
	}
}

func TestPermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "blobs")
	s, _ := serve(t, dir, dirblob.Options{})
	if _, err := s.Put(t.Context(), blob.PutInput{Key: "phi/history.json", Body: []byte("{}"), ContentType: "application/json"}); err != nil {
		t.Fatal(err)
	}
	files := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		} else {
			files++
		}
		if info.Mode().Perm()&^want != 0 {
			t.Errorf("%s has mode %v, want at most %v", path, info.Mode().Perm(), want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files != 2 {
		t.Fatalf("found %d files, want data and sidecar", files)
	}
}

func TestCorruptDataIsAnError(t *testing.T) {
	dir := t.TempDir()
	s, _ := serve(t, dir, dirblob.Options{})
	ctx := t.Context()
	if _, err := s.Put(ctx, blob.PutInput{Key: "k", Body: []byte("original"), ContentType: "text/plain"}); err != nil {
		t.Fatal(err)
	}
	data, err := filepath.Glob(filepath.Join(dir, "objects", "*", "*.data"))
	if err != nil || len(data) != 1 {
		t.Fatalf("data files: %v %v", data, err)
	}
	if err := os.WriteFile(data[0], []byte("tampered"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.Get(ctx, "k")
	if err == nil || errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Get of tampered data = %v, want a corruption error", err)
	}
	get, err := s.PresignGet(ctx, "k", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if resp, b := do(t, get.Method, get.URL, nil, nil); resp.StatusCode != http.StatusInternalServerError || bytes.Contains(b, []byte("tampered")) {
		t.Fatalf("presigned GET of tampered data: %d %q", resp.StatusCode, b)
	}
}

// TestReopen checks that objects and presigned URLs survive a restart with
// the same directory and secret.
func TestReopen(t *testing.T) {
	dir := t.TempDir()
	first, _ := serve(t, dir, dirblob.Options{})
	ctx := t.Context()
	retain := time.Now().Add(time.Hour).Truncate(time.Second)
	if _, err := first.Put(ctx, blob.PutInput{Key: "kept", Body: []byte("v1"), ContentType: "text/plain", RetainUntil: retain}); err != nil {
		t.Fatal(err)
	}
	second, _ := serve(t, dir, dirblob.Options{})
	b, obj, err := second.Get(ctx, "kept")
	if err != nil || string(b) != "v1" || !obj.RetainUntil.Equal(retain) {
		t.Fatalf("Get after reopen = %q, %+v, %v", b, obj, err)
	}
	if err := second.Delete(ctx, "kept"); !errors.Is(err, blob.ErrRetained) {
		t.Fatalf("Delete after reopen = %v, want ErrRetained", err)
	}
	if _, err := second.Put(ctx, blob.PutInput{Key: "kept", Body: []byte("v2")}); !errors.Is(err, blob.ErrExists) {
		t.Fatalf("Put after reopen = %v, want ErrExists", err)
	}
}

func TestNewRefusesBadOptions(t *testing.T) {
	dir := t.TempDir()
	for name, opts := range map[string]dirblob.Options{
		"no base URL":       {Secret: testSecret},
		"relative base URL": {BaseURL: "/blobs", Secret: testSecret},
		"ftp base URL":      {BaseURL: "ftp://127.0.0.1/blobs", Secret: testSecret},
		"base URL query":    {BaseURL: "http://127.0.0.1/blobs?x=1", Secret: testSecret},
		"short secret":      {BaseURL: "http://127.0.0.1/blobs", Secret: []byte("short")},
		"negative cap":      {BaseURL: "http://127.0.0.1/blobs", Secret: testSecret, MaxUploadSize: -1},
	} {
		if _, err := dirblob.New(dir, opts); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
	if _, err := dirblob.New("", dirblob.Options{BaseURL: "http://127.0.0.1/blobs", Secret: testSecret}); err == nil {
		t.Error("New with no directory succeeded")
	}
}

func TestContextCancelled(t *testing.T) {
	s, _ := serve(t, t.TempDir(), dirblob.Options{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.Put(ctx, blob.PutInput{Key: "k", Body: []byte("x")}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Put with a cancelled context = %v", err)
	}
	if _, err := s.Head(t.Context(), "k"); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Head = %v, want ErrNotFound", err)
	}
}
