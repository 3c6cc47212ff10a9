package s3blob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/goodfaith/goodfaith/internal/blob"
	"github.com/goodfaith/goodfaith/internal/clock"
)

// KMSKeyIDVar names the environment variable in which the test command
// (infra/testenv/minio.sh start) passes the id of MinIO's KMS key, so that
// the tests can exercise SSE-KMS.
const KMSKeyIDVar = "GOODFAITH_S3_KMS_KEY_ID"

// MaxPresignTTL is the longest life S3 allows a SigV4 presigned URL.
const MaxPresignTTL = 7 * 24 * time.Hour

// MaxPutSize is the largest object one S3 PUT may carry (5 GiB); larger
// objects need multipart uploads, which this port does not offer.
const MaxPutSize int64 = 5 << 30

// metaSHA256 is the user-metadata name (x-amz-meta-sha256) of the body's
// lowercase hex SHA-256.
const metaSHA256 = "sha256"

// conflictRetries bounds retries of a Put that S3 answered with 409
// ConditionalRequestConflict: a concurrent conditional write was in flight,
// and only a retry learns whether it won (then 412) or failed.
const conflictRetries = 3

// Options configure a Store.
type Options struct {
	// SSE is "" (send no encryption headers; the bucket's default
	// encryption applies) or types.ServerSideEncryptionAwsKms.
	SSE types.ServerSideEncryption
	// KMSKeyID is the KMS key of SSE-KMS (id, ARN or alias); empty means the
	// account's aws/s3 key. Only with SSE aws:kms.
	KMSKeyID string
	// Clock tells retention and signs presigned URLs; nil means clock.System.
	Clock clock.Clock
}

// Store is a blob.Store on one S3 bucket with Object Lock.
type Store struct {
	client  *s3.Client
	presign *s3.PresignClient
	bucket  string
	sse     types.ServerSideEncryption
	kmsKey  string
	clock   clock.Clock
}

var _ blob.Store = (*Store)(nil)

// New returns a Store on bucket. presign may be nil, in which case one is
// made from client.
func New(client *s3.Client, presign *s3.PresignClient, bucket string, opts Options) (*Store, error) {
	if client == nil {
		return nil, errors.New("s3blob: no S3 client")
	}
	if bucket == "" {
		return nil, errors.New("s3blob: no bucket")
	}
	switch opts.SSE {
	case "":
		if opts.KMSKeyID != "" {
			return nil, errors.New("s3blob: a KMS key id needs SSE aws:kms")
		}
	case types.ServerSideEncryptionAwsKms:
	default:
		return nil, fmt.Errorf("s3blob: unsupported SSE %q (want \"\" or %q)", opts.SSE, types.ServerSideEncryptionAwsKms)
	}
	if presign == nil {
		presign = s3.NewPresignClient(client)
	}
	c := opts.Clock
	if c == nil {
		c = clock.System{}
	}
	return &Store{client: client, presign: presign, bucket: bucket, sse: opts.SSE, kmsKey: opts.KMSKeyID, clock: c}, nil
}

// errorCode returns the S3 error code and HTTP status of err, where known.
func errorCode(err error) (code string, status int) {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return code, status
}

func isNotFound(err error) bool {
	code, status := errorCode(err)
	switch code {
	case "NoSuchKey", "NotFound", "NoSuchVersion":
		return true
	case "NoSuchBucket":
		// A missing bucket is a misconfiguration, not a missing object.
		return false
	}
	return code == "" && status == http.StatusNotFound
}

// Put writes a new object; blob.ErrExists if the key holds one.
func (s *Store) Put(ctx context.Context, in blob.PutInput) (blob.Object, error) {
	if !blob.ValidKey(in.Key) {
		return blob.Object{}, fmt.Errorf("s3blob: put %q: %w", in.Key, blob.ErrInvalidKey)
	}
	ct, err := blob.NormalizeContentType(in.ContentType)
	if err != nil {
		return blob.Object{}, err
	}
	var retain time.Time
	if !in.RetainUntil.IsZero() {
		retain = blob.RetentionDate(in.RetainUntil)
		// S3 refuses a past date too; saying so here gives a clear error.
		if !retain.After(s.clock.Now()) {
			return blob.Object{}, fmt.Errorf("s3blob: put %q: retain-until %s is not in the future", in.Key, retain.Format(time.RFC3339))
		}
	}
	sum := sha256.Sum256(in.Body)
	hexSum := hex.EncodeToString(sum[:])
	input := func() *s3.PutObjectInput {
		p := &s3.PutObjectInput{
			Bucket:         aws.String(s.bucket),
			Key:            aws.String(in.Key),
			Body:           bytes.NewReader(in.Body),
			ContentLength:  aws.Int64(int64(len(in.Body))),
			ContentType:    aws.String(ct),
			IfNoneMatch:    aws.String("*"),
			ChecksumSHA256: aws.String(base64.StdEncoding.EncodeToString(sum[:])),
			Metadata:       map[string]string{metaSHA256: hexSum},
		}
		if !retain.IsZero() {
			p.ObjectLockMode = types.ObjectLockModeCompliance
			p.ObjectLockRetainUntilDate = aws.Time(retain)
		}
		s.applySSE(&p.ServerSideEncryption, &p.SSEKMSKeyId)
		return p
	}
	for attempt := 0; ; attempt++ {
		out, err := s.client.PutObject(ctx, input())
		if err == nil {
			return blob.Object{
				Key:         in.Key,
				VersionID:   aws.ToString(out.VersionId),
				SHA256:      hexSum,
				Size:        int64(len(in.Body)),
				ContentType: ct,
				RetainUntil: retain,
			}, nil
		}
		code, status := errorCode(err)
		if code == "PreconditionFailed" || status == http.StatusPreconditionFailed {
			return blob.Object{}, fmt.Errorf("s3blob: put %q: %w", in.Key, blob.ErrExists)
		}
		if code == "ConditionalRequestConflict" && attempt < conflictRetries {
			continue
		}
		return blob.Object{}, fmt.Errorf("s3blob: put %q: %w", in.Key, err)
	}
}

func (s *Store) applySSE(sse *types.ServerSideEncryption, keyID **string) {
	if s.sse == "" {
		return
	}
	*sse = s.sse
	if s.kmsKey != "" {
		*keyID = aws.String(s.kmsKey)
	}
}

// describe builds the port's description from S3's response fields.
func describe(key string, version, contentType *string, size *int64, metadata map[string]string, retain *time.Time) blob.Object {
	o := blob.Object{
		Key:         key,
		VersionID:   aws.ToString(version),
		SHA256:      metadata[metaSHA256],
		Size:        aws.ToInt64(size),
		ContentType: aws.ToString(contentType),
	}
	if retain != nil {
		o.RetainUntil = retain.UTC()
	}
	return o
}

// Get reads the current version of an object; blob.ErrNotFound if there is
// none. Bytes that do not match the recorded SHA-256 are an error.
func (s *Store) Get(ctx context.Context, key string) ([]byte, blob.Object, error) {
	if !blob.ValidKey(key) {
		return nil, blob.Object{}, fmt.Errorf("s3blob: get %q: %w", key, blob.ErrInvalidKey)
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if isNotFound(err) {
		return nil, blob.Object{}, fmt.Errorf("s3blob: get %q: %w", key, blob.ErrNotFound)
	}
	if err != nil {
		return nil, blob.Object{}, fmt.Errorf("s3blob: get %q: %w", key, err)
	}
	defer out.Body.Close()
	body, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, blob.Object{}, fmt.Errorf("s3blob: get %q: %w", key, err)
	}
	obj := describe(key, out.VersionId, out.ContentType, out.ContentLength, out.Metadata, out.ObjectLockRetainUntilDate)
	sum := sha256.Sum256(body)
	got := hex.EncodeToString(sum[:])
	if obj.SHA256 != "" && obj.SHA256 != got {
		return nil, blob.Object{}, fmt.Errorf("s3blob: get %q: body sha256 %s does not match the recorded %s", key, got, obj.SHA256)
	}
	obj.SHA256 = got
	obj.Size = int64(len(body))
	return body, obj, nil
}

// Head describes the current version of an object; blob.ErrNotFound if
// there is none.
func (s *Store) Head(ctx context.Context, key string) (blob.Object, error) {
	if !blob.ValidKey(key) {
		return blob.Object{}, fmt.Errorf("s3blob: head %q: %w", key, blob.ErrInvalidKey)
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{
		Bucket:       aws.String(s.bucket),
		Key:          aws.String(key),
		ChecksumMode: types.ChecksumModeEnabled,
	})
	if isNotFound(err) {
		return blob.Object{}, fmt.Errorf("s3blob: head %q: %w", key, blob.ErrNotFound)
	}
	if err != nil {
		return blob.Object{}, fmt.Errorf("s3blob: head %q: %w", key, err)
	}
	obj := describe(key, out.VersionId, out.ContentType, out.ContentLength, out.Metadata, out.ObjectLockRetainUntilDate)
	if obj.SHA256 != "" {
		return obj, nil
	}
	// No metadata: the object came through a presigned PUT. A full-object
	// SHA-256 checksum is as good; a composite (multipart) one is not.
	if c := aws.ToString(out.ChecksumSHA256); c != "" && (out.ChecksumType == "" || out.ChecksumType == types.ChecksumTypeFullObject) {
		if raw, err := base64.StdEncoding.DecodeString(c); err == nil && len(raw) == sha256.Size {
			obj.SHA256 = hex.EncodeToString(raw)
			return obj, nil
		}
	}
	// Otherwise hash the very version described.
	sum, err := s.hashVersion(ctx, key, out.VersionId)
	if isNotFound(err) {
		return blob.Object{}, fmt.Errorf("s3blob: head %q: %w", key, blob.ErrNotFound)
	}
	if err != nil {
		return blob.Object{}, fmt.Errorf("s3blob: head %q: %w", key, err)
	}
	obj.SHA256 = sum
	return obj, nil
}

func (s *Store) hashVersion(ctx context.Context, key string, version *string) (string, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key), VersionId: version})
	if err != nil {
		return "", err
	}
	defer out.Body.Close()
	h := sha256.New()
	if _, err := io.Copy(h, out.Body); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Delete removes the current version of an object; blob.ErrRetained before
// its retain-until. A missing key is not an error, so that a retried Delete
// succeeds.
//
// In a versioned bucket a DeleteObject without a version only stacks a delete
// marker and keeps the data; Delete removes the version itself, which is
// what Object Lock guards, so the data really goes once retention allows.
func (s *Store) Delete(ctx context.Context, key string) error {
	if !blob.ValidKey(key) {
		return fmt.Errorf("s3blob: delete %q: %w", key, blob.ErrInvalidKey)
	}
	head, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("s3blob: delete %q: %w", key, err)
	}
	locked := head.ObjectLockMode != "" || head.ObjectLockLegalHoldStatus == types.ObjectLockLegalHoldStatusOn
	// Refusing here saves a request S3 would refuse anyway.
	if head.ObjectLockMode != "" && head.ObjectLockRetainUntilDate != nil && s.clock.Now().Before(*head.ObjectLockRetainUntilDate) {
		return fmt.Errorf("s3blob: delete %q (retained until %s): %w", key, head.ObjectLockRetainUntilDate.UTC().Format(time.RFC3339), blob.ErrRetained)
	}
	_, err = s.client.DeleteObject(ctx, &s3.DeleteObjectInput{
		Bucket:    aws.String(s.bucket),
		Key:       aws.String(key),
		VersionId: head.VersionId,
	})
	if err == nil || isNotFound(err) {
		return nil
	}
	// AWS answers a delete of a locked version with 403 AccessDenied, MinIO
	// with 400 InvalidRequest ("Object is WORM protected"). Only a version we
	// saw locked makes either a retention refusal: for any other object it is
	// a real permission or request problem and must surface as one.
	if code, status := errorCode(err); locked && (code == "AccessDenied" || code == "InvalidRequest" || status == http.StatusForbidden) {
		return fmt.Errorf("s3blob: delete %q: %w (%w)", key, blob.ErrRetained, err)
	}
	return fmt.Errorf("s3blob: delete %q: %w", key, err)
}

// clockPresigner signs at a fixed time taken from the Store's clock instead
// of the SDK's wall-clock time, so that ExpiresAt and the URL agree and
// tests can control expiry.
type clockPresigner struct {
	next s3.HTTPPresignerV4
	at   time.Time
}

func (p clockPresigner) PresignHTTP(ctx context.Context, credentials aws.Credentials, r *http.Request,
	payloadHash, service, region string, _ time.Time, optFns ...func(*v4.SignerOptions),
) (string, http.Header, error) {
	return p.next.PresignHTTP(ctx, credentials, r, payloadHash, service, region, p.at, optFns...)
}

// presignOptions returns the options of one presigning and its expiry.
func (s *Store) presignOptions(ttl time.Duration) (func(*s3.PresignOptions), time.Time, error) {
	// SigV4 carries the expiry in whole seconds, from 1 to 7 days' worth.
	ttl = ttl.Truncate(time.Second)
	if ttl < time.Second || ttl > MaxPresignTTL {
		return nil, time.Time{}, fmt.Errorf("s3blob: presign ttl %v is outside [1s, %v]", ttl, MaxPresignTTL)
	}
	at := s.clock.Now().UTC().Truncate(time.Second)
	return func(o *s3.PresignOptions) {
		o.Expires = ttl
		o.Presigner = clockPresigner{next: o.Presigner, at: at}
	}, at.Add(ttl), nil
}

// browserHeaders returns the signed headers a caller must send, under their
// canonical names. Host is left out: clients derive it from the URL, and
// browsers refuse to set it.
func browserHeaders(signed http.Header) http.Header {
	h := http.Header{}
	for k, v := range signed {
		if strings.EqualFold(k, "Host") {
			continue
		}
		h[http.CanonicalHeaderKey(k)] = append([]string(nil), v...)
	}
	return h
}

// PresignPut lets a browser upload exactly size bytes of contentType to key
// until ttl passes. The URL signs Content-Type, Content-Length,
// If-None-Match: * and the SSE headers, so S3 refuses any other type or
// size, an existing key, and unencrypted storage.
func (s *Store) PresignPut(ctx context.Context, key, contentType string, size int64, ttl time.Duration) (blob.PresignedRequest, error) {
	if !blob.ValidKey(key) {
		return blob.PresignedRequest{}, fmt.Errorf("s3blob: presign put %q: %w", key, blob.ErrInvalidKey)
	}
	ct, err := blob.NormalizeContentType(contentType)
	if err != nil {
		return blob.PresignedRequest{}, err
	}
	// SigV4 leaves a zero Content-Length unsigned, which would let the URL
	// upload any size; so the smallest upload is one byte.
	if size < 1 || size > MaxPutSize {
		return blob.PresignedRequest{}, fmt.Errorf("s3blob: presign put %q: size %d is outside [1, %d]", key, size, MaxPutSize)
	}
	opt, expires, err := s.presignOptions(ttl)
	if err != nil {
		return blob.PresignedRequest{}, err
	}
	in := &s3.PutObjectInput{
		Bucket:        aws.String(s.bucket),
		Key:           aws.String(key),
		ContentType:   aws.String(ct),
		ContentLength: aws.Int64(size),
		IfNoneMatch:   aws.String("*"),
	}
	s.applySSE(&in.ServerSideEncryption, &in.SSEKMSKeyId)
	req, err := s.presign.PresignPutObject(ctx, in, opt)
	if err != nil {
		return blob.PresignedRequest{}, fmt.Errorf("s3blob: presign put %q: %w", key, err)
	}
	return blob.PresignedRequest{URL: req.URL, Method: req.Method, Headers: browserHeaders(req.SignedHeader), ExpiresAt: expires}, nil
}

// PresignGet lets a browser download key until ttl passes.
func (s *Store) PresignGet(ctx context.Context, key string, ttl time.Duration) (blob.PresignedRequest, error) {
	if !blob.ValidKey(key) {
		return blob.PresignedRequest{}, fmt.Errorf("s3blob: presign get %q: %w", key, blob.ErrInvalidKey)
	}
	opt, expires, err := s.presignOptions(ttl)
	if err != nil {
		return blob.PresignedRequest{}, err
	}
	req, err := s.presign.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)}, opt)
	if err != nil {
		return blob.PresignedRequest{}, fmt.Errorf("s3blob: presign get %q: %w", key, err)
	}
	return blob.PresignedRequest{URL: req.URL, Method: req.Method, Headers: browserHeaders(req.SignedHeader), ExpiresAt: expires}, nil
}

// CreateBucket creates bucket in the client's region, with Object Lock (and
// so versioning) enabled if objectLock is set. It is for tests and local
// tooling; production creates the bucket from template.yaml. A bucket we
// already own is accepted if it has Object Lock when asked for.
func CreateBucket(ctx context.Context, client *s3.Client, bucket string, objectLock bool) error {
	in := &s3.CreateBucketInput{Bucket: aws.String(bucket)}
	if objectLock {
		in.ObjectLockEnabledForBucket = aws.Bool(true)
	}
	// us-east-1 is the one region that must not be named as a constraint.
	if region := client.Options().Region; region != "" && region != "us-east-1" {
		in.CreateBucketConfiguration = &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraint(region)}
	}
	_, err := client.CreateBucket(ctx, in)
	if err == nil {
		return nil
	}
	if code, _ := errorCode(err); code != "BucketAlreadyOwnedByYou" {
		return fmt.Errorf("s3blob: create bucket %q: %w", bucket, err)
	}
	if !objectLock {
		return nil
	}
	cfg, err := client.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: aws.String(bucket)})
	if err != nil {
		return fmt.Errorf("s3blob: bucket %q exists; reading its Object Lock configuration: %w", bucket, err)
	}
	if cfg.ObjectLockConfiguration == nil || cfg.ObjectLockConfiguration.ObjectLockEnabled != types.ObjectLockEnabledEnabled {
		return fmt.Errorf("s3blob: bucket %q exists without Object Lock", bucket)
	}
	return nil
}
