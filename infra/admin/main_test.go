package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"

	"github.com/goodfaith/goodfaith/internal/auth"
	"github.com/goodfaith/goodfaith/internal/directory"
	"github.com/goodfaith/goodfaith/internal/store/dynamo"
	"github.com/goodfaith/goodfaith/internal/testenv"
)

func TestSeedLoadsTheDirectoryIntoDynamoDB(t *testing.T) {
	endpoint := testenv.DynamoDB(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "admintest")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "admintest")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	ctx := context.Background()
	db := dynamodb.New(dynamodb.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("admintest", "admintest", ""),
	})
	table := fmt.Sprintf("goodfaith-admin-%d", time.Now().UnixNano()%1e9)
	if err := dynamo.CreateTable(ctx, db, table); err != nil {
		t.Fatal(err)
	}
	seedFile := filepath.Join("..", "..", "testdata", "seed", "e2e.json")
	for i := 0; i < 2; i++ { // idempotent
		var out bytes.Buffer
		if err := run(ctx, []string{"seed", "-table", table, "-endpoint", endpoint, seedFile}, &out); err != nil {
			t.Fatalf("seed (run %d): %v", i+1, err)
		}
		if !strings.Contains(out.String(), "loaded 4 clinic(s) and 5 provider(s) and 2 medical director(s)") {
			t.Errorf("output %q", out.String())
		}
	}
	dir := directory.Directory{Store: dynamo.New(db, dynamodbstreams.New(dynamodbstreams.Options{Region: "us-east-1"}), table)}
	c, err := dir.ClinicByPublishableKey(ctx, "pk_test_a")
	if err != nil || c.ID != "clinic_a" {
		t.Fatalf("clinic by publishable key: %+v, %v", c, err)
	}
	if c.SecretKeyHash == "" || strings.Contains(c.SecretKeyHash, "sk_test") {
		t.Errorf("secret key stored as %q; want its hash", c.SecretKeyHash)
	}
	if got, err := dir.ClinicBySecretKeyHash(ctx, auth.HashSecretKey("sk_test_aaaaaaaaaaaaaaaaaaaaaaaaaaaa")); err != nil || got.ID != "clinic_a" {
		t.Errorf("clinic by secret key: %+v, %v", got, err)
	}
	if p, err := dir.Provider(ctx, "prov_tx_md"); err != nil || len(p.Licenses) != 1 {
		t.Errorf("provider: %+v, %v", p, err)
	}
	if ds, err := dir.ClinicDirectors(ctx, "clinic_c"); err != nil || len(ds) != 1 || ds[0].ID != "md_c" {
		t.Errorf("medical directors of clinic_c: %+v, %v", ds, err)
	}

	// Refusals: a table that does not exist, a seed that does not parse.
	if err := run(ctx, []string{"seed", "-table", table + "-missing", "-endpoint", endpoint, seedFile}, &bytes.Buffer{}); err == nil {
		t.Error("seeding a missing table succeeded")
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"clinics":[{"id":"c","unknown":1}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, []string{"seed", "-table", table, "-endpoint", endpoint, bad}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "unknown") {
		t.Errorf("a seed with an unknown field: %v", err)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"other"}, {"seed"}, {"seed", "-table", "t"}, {"seed", "file"}} {
		if err := run(context.Background(), args, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "usage") {
			t.Errorf("run(%q) = %v; want the usage", args, err)
		}
	}
}
