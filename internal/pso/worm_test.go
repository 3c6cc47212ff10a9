package pso

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/goodfaith/goodfaith/internal/blob"
	"github.com/goodfaith/goodfaith/internal/blob/s3blob"
	"github.com/goodfaith/goodfaith/internal/testenv"
)

// TestLockedObjectsCannotBeOverwrittenOrDeletedInMinIO issues a PSO into a
// MinIO bucket with Object Lock and SSE-KMS, then attacks its objects with
// raw S3 calls, past the port: an unconditional overwrite only adds a
// version and leaves the locked one readable; deleting the locked version,
// even asking to bypass governance, is refused; the object keeps its
// compliance-mode retention.
func TestLockedObjectsCannotBeOverwrittenOrDeletedInMinIO(t *testing.T) {
	svc := testenv.S3(t)
	ctx := context.Background()
	client := s3.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(svc.AccessKey, svc.SecretKey, "")},
		func(o *s3.Options) { o.BaseEndpoint = aws.String(svc.Endpoint); o.UsePathStyle = true })
	bucket := fmt.Sprintf("gf-pso-worm-%d", time.Now().UnixNano())
	if err := s3blob.CreateBucket(ctx, client, bucket, true); err != nil {
		t.Fatal(err)
	}
	opts := s3blob.Options{}
	if id := os.Getenv(s3blob.KMSKeyIDVar); id != "" {
		opts.SSE, opts.KMSKeyID = types.ServerSideEncryptionAwsKms, id
	}
	blobs, err := s3blob.New(client, nil, bucket, opts)
	if err != nil {
		t.Fatal(err)
	}
	doc := testDoc()
	doc.IssuedAt = time.Now().UTC().Truncate(time.Second) // retention counts from now in a real bucket
	rec, _, err := Issuer{Signer: newFileKey(t), Blobs: blobs, RetentionYears: 1}.Issue(ctx, doc, "clinic_a")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []struct{ key, ver, sum string }{{rec.ObjectKey, rec.ObjectVer, rec.SHA256}, {rec.PDFKey, rec.PDFVer, rec.PDFSHA256}} {
		if k.ver == "" {
			t.Fatalf("%s: no object version indexed", k.key)
		}
		head, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &k.key, VersionId: &k.ver})
		if err != nil {
			t.Fatal(err)
		}
		if head.ObjectLockMode != types.ObjectLockModeCompliance || head.ObjectLockRetainUntilDate == nil || head.ObjectLockRetainUntilDate.Before(doc.IssuedAt.AddDate(1, 0, -1)) {
			t.Fatalf("%s: lock %q until %v", k.key, head.ObjectLockMode, head.ObjectLockRetainUntilDate)
		}
		if opts.SSE != "" && head.ServerSideEncryption != types.ServerSideEncryptionAwsKms {
			t.Fatalf("%s: encryption %q, want aws:kms", k.key, head.ServerSideEncryption)
		}
		// Through the port: write-once and retained.
		if _, err := blobs.Put(ctx, blob.PutInput{Key: k.key, Body: []byte("forged")}); !errors.Is(err, blob.ErrExists) {
			t.Fatalf("port overwrite of %s: %v", k.key, err)
		}
		if err := blobs.Delete(ctx, k.key); !errors.Is(err, blob.ErrRetained) {
			t.Fatalf("port delete of %s: %v", k.key, err)
		}
		// Past the port, with raw S3 calls.
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &k.key, Body: bytes.NewReader([]byte("forged"))}); err != nil {
			t.Logf("raw overwrite refused: %v", err)
		}
		if _, err := client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: &k.key, VersionId: &k.ver}); err == nil {
			t.Fatalf("the locked version of %s was deleted", k.key)
		}
		if _, err := client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: &k.key, VersionId: &k.ver, BypassGovernanceRetention: aws.Bool(true)}); err == nil {
			t.Fatalf("the locked version of %s was deleted bypassing governance", k.key)
		}
		got, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &k.key, VersionId: &k.ver})
		if err != nil {
			t.Fatalf("the locked version of %s is gone: %v", k.key, err)
		}
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(got.Body)
		got.Body.Close()
		if sha256Hex(buf.Bytes()) != k.sum {
			t.Fatalf("the locked version of %s changed", k.key)
		}
	}
}
