package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/goodfaith/goodfaith/internal/blob/s3blob"
	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/notify"
	"github.com/goodfaith/goodfaith/internal/signer"
	"github.com/goodfaith/goodfaith/internal/store/dynamo"
)

// AWSConfig locates the production resources. Endpoints are for tests
// against DynamoDB Local and MinIO; in AWS they are empty. The keys are the
// function role's, from the environment (Build), or the test servers'.
type AWSConfig struct {
	Region    string
	Table     string
	Bucket    string
	SSEKMSKey string // KMS key of the bucket's SSE-KMS; empty: the bucket default

	DynamoDBEndpoint string
	S3Endpoint       string
	AccessKey        string
	SecretKey        string
	SessionToken     string

	// WebhookQueueURL is the SQS queue of webhook delivery jobs
	// (webhookqueue.go); empty, the app keeps an in-process queue.
	WebhookQueueURL string

	// APIOptions are added to every AWS client's middleware stack; the load
	// tool uses them to record consumed capacity and count requests.
	APIOptions []func(*middleware.Stack) error

	// Notify chooses SES and SNS for email and SMS (notifyenv.go) for
	// Build, whose Needs.Senders builds the senders; empty, every message
	// stays in the outbox. OpenAWS keeps every message in the outbox.
	Notify NotifyConfig
}

// AWS is the production home.
type AWS struct {
	Ports Ports
	Store *dynamo.Store // its change feed is streamfeed.New(Store)
	// The clients, for provisioning in tests and tools.
	DB *dynamodb.Client
	S3 *s3.Client
	// Config is the SDK configuration the clients share (sdkConfig), built
	// once per process.
	Config aws.Config
	// BlobOrigin is the origin of the blob store's presigned URLs (the
	// bucket's virtual-hosted endpoint, or S3_ENDPOINT in tests): the
	// widget frame's and consoles' CSP allow it.
	BlobOrigin string
}

// OpenAWS builds the AWS adapters, for tools and tests: the signer is
// given, and every message stays in the outbox (the functions' senders
// come from Build's Needs).
func OpenAWS(ctx context.Context, c AWSConfig, sign signer.Signer, clk clock.Clock, log *slog.Logger) (*AWS, error) {
	return openAWS(sdkConfig(c, os.Getenv), c, sign, nil, clk, log)
}

// openAWS builds the clients and adapters on a loaded configuration, with
// the notifier's senders from senders (nil: the outbox only). It makes no
// network call.
func openAWS(cfg aws.Config, c AWSConfig, sign signer.Signer, senders SenderFactory, clk clock.Clock, log *slog.Logger) (*AWS, error) {
	if c.Table == "" || c.Bucket == "" {
		return nil, fmt.Errorf("app: table and bucket names are required")
	}
	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		if c.DynamoDBEndpoint != "" {
			o.BaseEndpoint = aws.String(c.DynamoDBEndpoint)
		}
	})
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if c.S3Endpoint != "" {
			o.BaseEndpoint = aws.String(c.S3Endpoint)
			o.UsePathStyle = true // MinIO on loopback has no virtual hosts
		}
	})
	bopts := s3blob.Options{Clock: clk}
	if c.SSEKMSKey != "" {
		bopts.SSE, bopts.KMSKeyID = s3types.ServerSideEncryptionAwsKms, c.SSEKMSKey
	}
	blobs, err := s3blob.New(s3c, s3.NewPresignClient(s3c), c.Bucket, bopts)
	if err != nil {
		return nil, err
	}
	st := dynamo.New(db, c.Table)
	var notifier notify.Notifier = notify.Outbox{Store: st, Log: log}
	if senders != nil {
		notifier = notifierWith(senders(cfg, c.Notify), st, clk, log) // notifyenv.go
	}
	return &AWS{Ports: Ports{Store: st, Blobs: blobs, Signer: sign, Notifier: notifier, Jobs: webhookJobs(cfg, c.WebhookQueueURL)}, Store: st, DB: db, S3: s3c, Config: cfg,
		BlobOrigin: blobOrigin(c, cfg.Region)}, nil
}

// blobOrigin is where presigned URLs of c's bucket point: the endpoint
// override (path-style, MinIO in tests), else the bucket's virtual-hosted
// regional endpoint.
func blobOrigin(c AWSConfig, region string) string {
	if c.S3Endpoint != "" {
		if u, err := url.Parse(c.S3Endpoint); err == nil {
			return u.Scheme + "://" + u.Host
		}
	}
	return "https://" + c.Bucket + ".s3." + region + ".amazonaws.com"
}
