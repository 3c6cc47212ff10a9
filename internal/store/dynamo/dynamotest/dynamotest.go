// Package dynamotest gives tests a DynamoDB Local client, stores on fresh
// tables of it and their change feeds.
package dynamotest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"

	"github.com/goodfaith/goodfaith/internal/store"
	"github.com/goodfaith/goodfaith/internal/store/dynamo"
	"github.com/goodfaith/goodfaith/internal/store/dynamo/streamfeed"
	"github.com/goodfaith/goodfaith/internal/testenv"
)

// config is the SDK configuration for DynamoDB Local: any region, static
// throwaway credentials.
var config = aws.Config{
	Region:      "us-east-1",
	Credentials: credentials.NewStaticCredentialsProvider("goodfaith", "goodfaith-local-secret", ""),
}

// Client returns a DynamoDB client for DynamoDB Local (testenv.DynamoDB
// skips the test, or fails it under CI, when it is not running).
func Client(tb testing.TB) *dynamodb.Client {
	tb.Helper()
	endpoint := testenv.DynamoDB(tb)
	return dynamodb.NewFromConfig(config, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(endpoint) })
}

// NewTable creates a uniquely named table (dynamo.CreateTable) and deletes
// it when the test ends.
func NewTable(tb testing.TB, db *dynamodb.Client) string {
	tb.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatal(err)
	}
	name := "goodfaith-test-" + hex.EncodeToString(b[:])
	if err := dynamo.CreateTable(context.Background(), db, name); err != nil {
		tb.Fatalf("CreateTable(%s): %v", name, err)
	}
	tb.Cleanup(func() {
		_, err := db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
		if err != nil {
			tb.Logf("DeleteTable(%s): %v", name, err)
		}
	})
	return name
}

// Feed returns the change feed of st, a store of Client's (the same
// credentials: DynamoDB Local keeps tables apart per access key).
func Feed(tb testing.TB, st *dynamo.Store) *streamfeed.Feed {
	tb.Helper()
	endpoint := testenv.DynamoDB(tb)
	return streamfeed.NewFromConfig(st, config, func(o *dynamodbstreams.Options) { o.BaseEndpoint = aws.String(endpoint) })
}

// Open returns a store on a new table.
func Open(tb testing.TB) *dynamo.Store {
	tb.Helper()
	db := Client(tb)
	return dynamo.New(db, NewTable(tb, db))
}

// MustPut writes it under cond or fails the test.
func MustPut(t *testing.T, s store.Store, it store.Item, cond store.Condition) {
	t.Helper()
	if err := s.Put(t.Context(), it, cond); err != nil {
		t.Fatalf("Put(%s|%s): %v", it.PK, it.SK, err)
	}
}

// SameItem reports whether a and b are the same item, every field of it.
func SameItem(a, b store.Item) bool {
	return a.PK == b.PK && a.SK == b.SK && a.GSI1PK == b.GSI1PK && a.GSI1SK == b.GSI1SK &&
		a.GSI2PK == b.GSI2PK && a.GSI2SK == b.GSI2SK && a.GSI3PK == b.GSI3PK && a.GSI3SK == b.GSI3SK &&
		a.Version == b.Version &&
		a.ExpiresAt.Equal(b.ExpiresAt) && string(a.Data) == string(b.Data)
}
