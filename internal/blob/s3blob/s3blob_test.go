package s3blob_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/goodfaith/goodfaith/internal/blob"
	"github.com/goodfaith/goodfaith/internal/blob/blobtest"
	"github.com/goodfaith/goodfaith/internal/blob/s3blob"
	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/testenv"
)

// newClient returns a client for MinIO as the test command started it:
// path-style addressing (no bucket DNS names on loopback), static
// credentials, us-east-1.
func newClient(t *testing.T) *s3.Client {
	t.Helper()
	svc := testenv.S3(t)
	return clientFor(svc.Endpoint, svc.AccessKey, svc.SecretKey)
}

func clientFor(endpoint, accessKey, secretKey string) *s3.Client {
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(accessKey, secretKey, ""),
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.UsePathStyle = true
	})
}

// kmsKeyID returns MinIO's KMS key id, or skips (fails under CI) as testenv
// does for the endpoint.
func kmsKeyID(t *testing.T) string {
	t.Helper()
	if id := os.Getenv(s3blob.KMSKeyIDVar); id != "" {
		return id
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is not set: CI must run the tests through `make test`, which starts MinIO with a KMS key", s3blob.KMSKeyIDVar)
	}
	t.Skipf("%s is not set; run `make test` to start MinIO with a KMS key", s3blob.KMSKeyIDVar)
	return ""
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// newBucket creates a bucket with Object Lock, unique to the test. Buckets
// are left behind: objects under compliance retention cannot be removed
// before their date, by design, and MinIO's data lives in the test state
// directory anyway.
func newBucket(t *testing.T, client *s3.Client) string {
	t.Helper()
	bucket := "gf-test-" + randomHex(t, 8)
	if err := s3blob.CreateBucket(t.Context(), client, bucket, true); err != nil {
		t.Fatal(err)
	}
	return bucket
}

func openStore(t *testing.T, opts s3blob.Options) (*s3blob.Store, *s3.Client, string) {
	t.Helper()
	client := newClient(t)
	bucket := newBucket(t, client)
	s, err := s3blob.New(client, nil, bucket, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s, client, bucket
}

func TestConformance(t *testing.T) {
	newClient(t) // skip early, once, without MinIO
	blobtest.Run(t, func(t *testing.T) blob.Store {
		s, _, _ := openStore(t, s3blob.Options{})
		return s
	})
}

func TestConformanceSSEKMS(t *testing.T) {
	newClient(t)
	key := kmsKeyID(t)
	blobtest.Run(t, func(t *testing.T) blob.Store {
		s, _, _ := openStore(t, s3blob.Options{SSE: types.ServerSideEncryptionAwsKms, KMSKeyID: key})
		return s
	})
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func getVersion(t *testing.T, client *s3.Client, bucket, key, version string) []byte {
	t.Helper()
	out, err := client.GetObject(t.Context(), &s3.GetObjectInput{Bucket: &bucket, Key: &key, VersionId: &version})
	if err != nil {
		t.Fatalf("GetObject %s version %s: %v", key, version, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestWORM proves against the server, with the raw API and the full root
// credentials, that a version written under retention can be neither
// replaced, deleted, nor have its retention shortened: the adapter's
// promises rest on S3 Object Lock, not on its own checks.
func TestWORM(t *testing.T) {
	s, client, bucket := openStore(t, s3blob.Options{})
	ctx := t.Context()
	const key = "pso/worm.jws"
	original := []byte("signed PSO, version 1")
	retain := time.Now().Add(time.Hour).Truncate(time.Second)
	obj, err := s.Put(ctx, blob.PutInput{Key: key, Body: original, ContentType: "application/jose", RetainUntil: retain})
	if err != nil {
		t.Fatal(err)
	}
	if obj.VersionID == "" {
		t.Fatal("Put returned no VersionID from a versioned bucket")
	}

	head, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	if head.ObjectLockMode != types.ObjectLockModeCompliance || head.ObjectLockRetainUntilDate == nil || !head.ObjectLockRetainUntilDate.Equal(retain) {
		t.Fatalf("object lock = %q until %v, want COMPLIANCE until %v", head.ObjectLockMode, head.ObjectLockRetainUntilDate, retain)
	}

	// Through the adapter: a second Put is refused outright.
	if _, err := s.Put(ctx, blob.PutInput{Key: key, Body: []byte("forged")}); !errors.Is(err, blob.ErrExists) {
		t.Fatalf("adapter Put over a locked object = %v, want ErrExists", err)
	}

	// The adapter refuses by its own clock first; with a clock a year
	// ahead it asks S3, and S3's refusal must come back as ErrRetained.
	ahead, err := s3blob.New(client, nil, bucket, s3blob.Options{Clock: clock.NewFake(time.Now().AddDate(1, 0, 0))})
	if err != nil {
		t.Fatal(err)
	}
	if err := ahead.Delete(ctx, key); !errors.Is(err, blob.ErrRetained) {
		t.Fatalf("Delete by a clock past retention = %v, want S3's refusal as ErrRetained", err)
	}

	// Raw API, explicit version id: refused, even when asking to bypass
	// governance retention (compliance mode has no bypass).
	for _, bypass := range []bool{false, true} {
		_, err := client.DeleteObject(ctx, &s3.DeleteObjectInput{
			Bucket: &bucket, Key: aws.String(key), VersionId: aws.String(obj.VersionID),
			BypassGovernanceRetention: aws.Bool(bypass),
		})
		if err == nil {
			t.Fatalf("DeleteObject of the locked version (bypass=%v) succeeded", bypass)
		}
		// AWS says AccessDenied; MinIO says InvalidRequest (ObjectLocked).
		if code := apiCode(err); code != "AccessDenied" && code != "InvalidRequest" {
			t.Errorf("DeleteObject of the locked version (bypass=%v): code %q, want an Object Lock refusal (%v)", bypass, code, err)
		}
	}
	// The batch API reports a refusal per key rather than as an error.
	batch, err := client.DeleteObjects(ctx, &s3.DeleteObjectsInput{
		Bucket: &bucket,
		Delete: &types.Delete{Objects: []types.ObjectIdentifier{{Key: aws.String(key), VersionId: aws.String(obj.VersionID)}}},
	})
	if err == nil && (len(batch.Deleted) != 0 || len(batch.Errors) != 1) {
		t.Fatalf("DeleteObjects of the locked version: deleted %d, errors %d; want it refused", len(batch.Deleted), len(batch.Errors))
	}

	// Retention cannot be shortened or switched to governance mode.
	for _, r := range []*types.ObjectLockRetention{
		{Mode: types.ObjectLockRetentionModeCompliance, RetainUntilDate: aws.Time(time.Now().Add(time.Minute))},
		{Mode: types.ObjectLockRetentionModeGovernance, RetainUntilDate: aws.Time(retain)},
	} {
		_, err := client.PutObjectRetention(ctx, &s3.PutObjectRetentionInput{
			Bucket: &bucket, Key: aws.String(key), VersionId: aws.String(obj.VersionID),
			Retention: r, BypassGovernanceRetention: aws.Bool(true),
		})
		if err == nil {
			t.Fatalf("PutObjectRetention %s until %v succeeded", r.Mode, r.RetainUntilDate)
		}
	}

	// A raw PUT without If-None-Match does not overwrite: in a versioned
	// bucket it adds a version and the locked one stays as it was.
	forged, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String(key), Body: bytes.NewReader([]byte("forged"))})
	if err != nil {
		t.Fatalf("raw PutObject: %v", err)
	}
	if aws.ToString(forged.VersionId) == obj.VersionID {
		t.Fatal("raw PutObject reused the locked version id")
	}
	// A delete without a version only adds a delete marker.
	if _, err := client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: aws.String(key)}); err != nil {
		t.Fatalf("DeleteObject without a version (delete marker): %v", err)
	}
	if got := getVersion(t, client, bucket, key, obj.VersionID); !bytes.Equal(got, original) {
		t.Fatalf("locked version now reads %q, want %q", got, original)
	}
	retention, err := client.GetObjectRetention(ctx, &s3.GetObjectRetentionInput{Bucket: &bucket, Key: aws.String(key), VersionId: aws.String(obj.VersionID)})
	if err != nil {
		t.Fatal(err)
	}
	if retention.Retention.Mode != types.ObjectLockRetentionModeCompliance || !retention.Retention.RetainUntilDate.Equal(retain) {
		t.Fatalf("retention now %s until %v, want COMPLIANCE until %v", retention.Retention.Mode, retention.Retention.RetainUntilDate, retain)
	}
}

func TestSSEKMSIsApplied(t *testing.T) {
	keyID := kmsKeyID(t)
	s, client, bucket := openStore(t, s3blob.Options{SSE: types.ServerSideEncryptionAwsKms, KMSKeyID: keyID})
	ctx := t.Context()
	body := []byte("patient history")
	if _, err := s.Put(ctx, blob.PutInput{Key: "phi/put", Body: body, ContentType: "application/json"}); err != nil {
		t.Fatal(err)
	}
	p, err := s.PresignPut(ctx, "phi/presigned", "application/json", int64(len(body)), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Headers.Get("X-Amz-Server-Side-Encryption"); got != "aws:kms" {
		t.Fatalf("presigned PUT headers %v lack x-amz-server-side-encryption: aws:kms", p.Headers)
	}
	req, err := http.NewRequestWithContext(ctx, p.Method, p.URL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range p.Headers {
		if k != "Content-Length" {
			req.Header[k] = v
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("presigned PUT: status %d", resp.StatusCode)
	}
	for _, key := range []string{"phi/put", "phi/presigned"} {
		head, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		if head.ServerSideEncryption != types.ServerSideEncryptionAwsKms {
			t.Errorf("%s: ServerSideEncryption = %q, want aws:kms", key, head.ServerSideEncryption)
		}
		if !strings.Contains(aws.ToString(head.SSEKMSKeyId), keyID) {
			t.Errorf("%s: SSEKMSKeyId = %q, want key %q", key, aws.ToString(head.SSEKMSKeyId), keyID)
		}
		got, _, err := s.Get(ctx, key)
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("Get(%s) = %q, %v", key, got, err)
		}
	}

	// Without SSE settings nothing asks for KMS (the bucket default rules).
	plain, err := s3blob.New(client, nil, bucket, s3blob.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.Put(ctx, blob.PutInput{Key: "plain", Body: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	head, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String("plain")})
	if err != nil {
		t.Fatal(err)
	}
	if head.ServerSideEncryption == types.ServerSideEncryptionAwsKms {
		t.Errorf("a store without SSE options asked for SSE-KMS")
	}
}

// TestPresignExpiresByInjectedClock signs with a clock an hour behind: the
// URL claims to have expired 50 minutes ago, and MinIO must refuse it.
func TestPresignExpiresByInjectedClock(t *testing.T) {
	client := newClient(t)
	bucket := newBucket(t, client)
	ctx := t.Context()
	live, err := s3blob.New(client, nil, bucket, s3blob.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := live.Put(ctx, blob.PutInput{Key: "k", Body: []byte("data"), ContentType: "text/plain"}); err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-time.Hour)
	stale, err := s3blob.New(client, nil, bucket, s3blob.Options{Clock: clock.NewFake(past)})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*s3blob.Store{stale, live} {
		p, err := s.PresignGet(ctx, "k", 10*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		req, err := http.NewRequestWithContext(ctx, p.Method, p.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want := http.StatusOK
		if s == stale {
			want = http.StatusForbidden
		}
		if resp.StatusCode != want {
			t.Fatalf("presigned GET signed at %v: status %d, want %d", p.ExpiresAt.Add(-10*time.Minute), resp.StatusCode, want)
		}
	}
}

// TestPresignedURLs checks what is signed without a server: presigning is
// local computation.
func TestPresignedURLs(t *testing.T) {
	client := clientFor("http://127.0.0.1:9", "AKIDEXAMPLE", "secret")
	at := time.Date(2026, 5, 4, 3, 2, 1, 500_000_000, time.UTC)
	s, err := s3blob.New(client, nil, "bucket", s3blob.Options{
		SSE: types.ServerSideEncryptionAwsKms, KMSKeyID: "key-1", Clock: clock.NewFake(at),
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.PresignPut(t.Context(), "up/a.png", "image/png", 1234, 90*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if p.Method != http.MethodPut || !p.ExpiresAt.Equal(at.Truncate(time.Second).Add(90*time.Second)) {
		t.Fatalf("Method %q ExpiresAt %v", p.Method, p.ExpiresAt)
	}
	u, err := url.Parse(p.URL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Path != "/bucket/up/a.png" || q.Get("X-Amz-Date") != "20260504T030201Z" || q.Get("X-Amz-Expires") != "90" {
		t.Fatalf("URL %s: wrong path, date or expiry", p.URL)
	}
	signed := strings.Split(q.Get("X-Amz-SignedHeaders"), ";")
	for _, h := range []string{"content-length", "content-type", "host", "if-none-match", "x-amz-server-side-encryption", "x-amz-server-side-encryption-aws-kms-key-id"} {
		if !contains(signed, h) {
			t.Errorf("X-Amz-SignedHeaders %v lacks %s", signed, h)
		}
	}
	want := http.Header{
		"Content-Type":                 {"image/png"},
		"Content-Length":               {"1234"},
		"If-None-Match":                {"*"},
		"X-Amz-Server-Side-Encryption": {"aws:kms"},
		"X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id": {"key-1"},
	}
	for k, v := range want {
		if got := p.Headers.Values(k); len(got) != 1 || got[0] != v[0] {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	for k := range p.Headers {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected header %s: %q", k, p.Headers[k])
		}
	}

	g, err := s.PresignGet(t.Context(), "up/a.png", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if g.Method != http.MethodGet || len(g.Headers) != 0 || !strings.Contains(g.URL, "X-Amz-Expires=3600") {
		t.Fatalf("PresignGet = %+v", g)
	}
	for _, ttl := range []time.Duration{999 * time.Millisecond, 8 * 24 * time.Hour} {
		if _, err := s.PresignGet(t.Context(), "k", ttl); err == nil {
			t.Errorf("PresignGet with ttl %v succeeded", ttl)
		}
	}
	if _, err := s.PresignPut(t.Context(), "k", "text/plain", s3blob.MaxPutSize+1, time.Minute); err == nil {
		t.Error("PresignPut above 5 GiB succeeded")
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestNewRefusesBadOptions(t *testing.T) {
	client := clientFor("http://127.0.0.1:9", "a", "b")
	for name, tc := range map[string]struct {
		client *s3.Client
		bucket string
		opts   s3blob.Options
	}{
		"no client":         {nil, "b", s3blob.Options{}},
		"no bucket":         {client, "", s3blob.Options{}},
		"key without SSE":   {client, "b", s3blob.Options{KMSKeyID: "k"}},
		"unsupported SSE":   {client, "b", s3blob.Options{SSE: types.ServerSideEncryptionAes256}},
		"SSE with bad name": {client, "b", s3blob.Options{SSE: "rot13"}},
	} {
		if _, err := s3blob.New(tc.client, nil, tc.bucket, tc.opts); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}

// TestMissingBucketIsNotMissingObject keeps a misconfigured bucket from
// looking like an empty one.
func TestMissingBucketIsNotMissingObject(t *testing.T) {
	client := newClient(t)
	s, err := s3blob.New(client, nil, "gf-test-no-such-bucket-"+randomHex(t, 4), s3blob.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = s.Get(t.Context(), "k")
	if err == nil || errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Get from a missing bucket = %v, want an error other than ErrNotFound", err)
	}
}

func TestCreateBucket(t *testing.T) {
	client := newClient(t)
	ctx := t.Context()
	locked := newBucket(t, client)
	// Creating it again is fine: the tooling may run twice.
	if err := s3blob.CreateBucket(ctx, client, locked, true); err != nil {
		t.Fatalf("CreateBucket again: %v", err)
	}
	cfg, err := client.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: &locked})
	if err != nil || cfg.ObjectLockConfiguration == nil || cfg.ObjectLockConfiguration.ObjectLockEnabled != types.ObjectLockEnabledEnabled {
		t.Fatalf("Object Lock configuration = %+v, %v", cfg, err)
	}
	plain := "gf-test-" + randomHex(t, 8)
	if err := s3blob.CreateBucket(ctx, client, plain, false); err != nil {
		t.Fatal(err)
	}
	// A plain bucket cannot pass for a locked one.
	if err := s3blob.CreateBucket(ctx, client, plain, true); err == nil {
		t.Fatal("CreateBucket with objectLock accepted an existing bucket without Object Lock")
	}
	if _, err := client.DeleteBucket(context.WithoutCancel(ctx), &s3.DeleteBucketInput{Bucket: &plain}); err != nil {
		t.Fatal(err)
	}
}
