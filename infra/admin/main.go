// Command admin does an operator's chores on a deployed Goodfaith stack.
//
//	go run ./infra/admin seed -table TABLE [-region REGION] FILE
//
// seed loads the clinics and providers of FILE (the seed format of API.md:
// clinics with their publishable and secret keys, providers with their
// licences) into the stack's DynamoDB table, as the local server's -seed
// does: strictly parsed, validated against the rules, secret keys stored
// hashed, idempotent (loading the same file again leaves the same records;
// a changed record replaces the old one). Credentials and region come from
// the usual AWS sources (AWS_PROFILE, environment, SSO). -endpoint points it
// at another DynamoDB (DynamoDB Local in tests).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"

	"github.com/goodfaith/goodfaith/internal/auth"
	"github.com/goodfaith/goodfaith/internal/directory"
	"github.com/goodfaith/goodfaith/internal/rules"
	"github.com/goodfaith/goodfaith/internal/store/dynamo"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "admin:", err)
		os.Exit(1)
	}
}

const usage = "usage: admin seed -table TABLE [-region REGION] [-endpoint URL] FILE"

func run(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 || args[0] != "seed" {
		return errors.New(usage)
	}
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	table := fs.String("table", "", "the stack's DynamoDB table (output TableName)")
	region := fs.String("region", "", "AWS region (default: the SDK's)")
	endpoint := fs.String("endpoint", "", "DynamoDB endpoint (tests: DynamoDB Local)")
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("%v\n%s", err, usage)
	}
	if *table == "" || fs.NArg() != 1 {
		return errors.New(usage)
	}
	raw, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	seed, err := directory.ParseSeed(raw)
	if err != nil {
		return err
	}
	var opts []func(*config.LoadOptions) error
	if *region != "" {
		opts = append(opts, config.WithRegion(*region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return err
	}
	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		if *endpoint != "" {
			o.BaseEndpoint = aws.String(*endpoint)
		}
	})
	if _, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: table}); err != nil {
		return fmt.Errorf("table %s: %w", *table, err)
	}
	st := dynamo.New(db, dynamodbstreams.NewFromConfig(cfg), *table)
	if err := (directory.Directory{Store: st}).Load(ctx, seed, rules.Default(), auth.HashSecretKey); err != nil {
		return err
	}
	fmt.Fprintf(out, "loaded %d clinic(s) and %d provider(s) and %d medical director(s) into %s\n", len(seed.Clinics), len(seed.Providers), len(seed.MedicalDirectors), *table)
	return nil
}
