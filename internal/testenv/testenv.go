// Package testenv tells tests where the project's test services run.
//
// The README's test command (make test) installs and starts DynamoDB Local,
// MinIO and ElasticMQ (SQS) on free loopback ports and exports their addresses in the
// variables below. A test that needs a service it cannot find skips with the
// reason when run by hand, and fails under CI (CI=true), so a CI run never
// counts a skipped integration test as passing.
package testenv

import (
	"os"
	"testing"
)

// Names of the variables the test command exports.
const (
	DynamoDBEndpointVar = "GOODFAITH_DYNAMODB_ENDPOINT"
	S3EndpointVar       = "GOODFAITH_S3_ENDPOINT"
	S3AccessKeyVar      = "GOODFAITH_S3_ACCESS_KEY"
	S3SecretKeyVar      = "GOODFAITH_S3_SECRET_KEY"
	SQSEndpointVar      = "GOODFAITH_SQS_ENDPOINT"
)

// S3Service is where MinIO listens and how to sign in to it.
type S3Service struct {
	Endpoint  string
	AccessKey string
	SecretKey string
}

// DynamoDB returns the DynamoDB Local endpoint, or skips/fails the test.
func DynamoDB(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test against DynamoDB Local; -short skips it")
	}
	return require(t, DynamoDBEndpointVar, "DynamoDB Local")
}

// S3 returns the MinIO endpoint and credentials, or skips/fails the test.
func S3(t testing.TB) S3Service {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test against MinIO; -short skips it")
	}
	return S3Service{
		Endpoint:  require(t, S3EndpointVar, "MinIO"),
		AccessKey: require(t, S3AccessKeyVar, "MinIO"),
		SecretKey: require(t, S3SecretKeyVar, "MinIO"),
	}
}

// SQS returns the ElasticMQ endpoint (an SQS query-protocol server), or
// skips/fails the test as require does. It runs under -short too when the
// server is there: an ElasticMQ round trip is cheap.
func SQS(t testing.TB) string {
	t.Helper()
	return require(t, SQSEndpointVar, "ElasticMQ")
}

func require(t testing.TB, name, service string) string {
	t.Helper()
	v := os.Getenv(name)
	if v != "" {
		return v
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is not set: CI must run the tests through `make test`, which starts %s", name, service)
	}
	t.Skipf("%s is not set; run `make test` to start %s and run this test", name, service)
	return ""
}
