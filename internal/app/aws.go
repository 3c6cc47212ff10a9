package app

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/goodfaith/goodfaith/internal/blob/s3blob"
	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/signer"
	"github.com/goodfaith/goodfaith/internal/store/dynamo"
)

// AWSConfig locates the production resources. Endpoints and static
// credentials are for tests against DynamoDB Local and MinIO; in AWS they
// are empty and the SDK's defaults (the function's role) apply.
type AWSConfig struct {
	Region    string
	Table     string
	Bucket    string
	SSEKMSKey string // KMS key of the bucket's SSE-KMS; empty: the bucket default

	DynamoDBEndpoint string
	S3Endpoint       string
	AccessKey        string
	SecretKey        string

	// APIOptions are added to every AWS client's middleware stack; the load
	// tool uses them to record consumed capacity and count requests.
	APIOptions []func(*middleware.Stack) error

	// Notify chooses SES and SNS for email and SMS (notifyenv.go); empty,
	// every message stays in the outbox.
	Notify NotifyConfig
}

// AWS is the production home.
type AWS struct {
	Ports Ports
	Store *dynamo.Store // also the change feed (DynamoDB Streams)
	// The clients, for provisioning in tests and tools.
	DB *dynamodb.Client
	S3 *s3.Client
}

// OpenAWS builds the AWS adapters. The signer is given: a KMS key in
// production.
func OpenAWS(ctx context.Context, c AWSConfig, sign signer.Signer, clk clock.Clock, log *slog.Logger) (*AWS, error) {
	if c.Table == "" || c.Bucket == "" {
		return nil, fmt.Errorf("app: table and bucket names are required")
	}
	opts := []func(*config.LoadOptions) error{}
	if c.Region != "" {
		opts = append(opts, config.WithRegion(c.Region))
	}
	if c.AccessKey != "" {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(c.AccessKey, c.SecretKey, "")))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, err
	}
	cfg.APIOptions = append(cfg.APIOptions, c.APIOptions...)
	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		if c.DynamoDBEndpoint != "" {
			o.BaseEndpoint = aws.String(c.DynamoDBEndpoint)
		}
	})
	streams := dynamodbstreams.NewFromConfig(cfg, func(o *dynamodbstreams.Options) {
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
	st := dynamo.New(db, streams, c.Table)
	notifier := awsNotifier(cfg, c.Notify, st, clk, log) // notifyenv.go
	return &AWS{Ports: Ports{Store: st, Blobs: blobs, Signer: sign, Notifier: notifier}, Store: st, DB: db, S3: s3c}, nil
}
