// Command admin does an operator's chores on a deployed Goodfaith stack.
//
//	go run ./infra/admin seed -table TABLE [-region REGION] [-endpoint URL] FILE
//	go run ./infra/admin index-sla -table TABLE [-region REGION] [-endpoint URL]
//
// seed loads the clinics and providers of FILE (the seed format of API.md:
// clinics with their publishable and secret keys, providers with their
// licences) into the stack's DynamoDB table, as the local server's -seed
// does: strictly parsed, validated against the rules, secret keys stored
// hashed, idempotent (loading the same file again leaves the same records;
// a changed record replaces the old one).
//
// index-sla puts on the SLA-due index (GSI3) the queued exams a build from
// before that index wrote without its keys, which the sweep would otherwise
// never escalate or expire (exam.Service.IndexSLA). Run it once after
// deploying the build that adds the index to an existing stack; running it
// again finds nothing to do.
//
// Credentials and region come from the usual AWS sources (AWS_PROFILE,
// environment, SSO). -endpoint points a subcommand at another DynamoDB
// (DynamoDB Local in tests).
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

	"github.com/goodfaith/goodfaith/internal/auth"
	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/directory"
	"github.com/goodfaith/goodfaith/internal/exam"
	"github.com/goodfaith/goodfaith/internal/rules"
	"github.com/goodfaith/goodfaith/internal/store/dynamo"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "admin:", err)
		os.Exit(1)
	}
}

const usage = `usage: admin seed -table TABLE [-region REGION] [-endpoint URL] FILE
       admin index-sla -table TABLE [-region REGION] [-endpoint URL]`

func run(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	switch args[0] {
	case "seed":
		return runSeed(ctx, args[1:], out)
	case "index-sla":
		return runIndexSLA(ctx, args[1:], out)
	default:
		return errors.New(usage)
	}
}

// runSeed loads a seed file into the table.
func runSeed(ctx context.Context, args []string, out io.Writer) error {
	tt, files, err := parseTableFlags("seed", args, 1)
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(files[0])
	if err != nil {
		return err
	}
	seed, err := directory.ParseSeed(raw)
	if err != nil {
		return err
	}
	st, err := tt.open(ctx)
	if err != nil {
		return err
	}
	if err := (directory.Directory{Store: st}).Load(ctx, seed, rules.Default(), auth.HashSecretKey); err != nil {
		return err
	}
	fmt.Fprintf(out, "loaded %d clinic(s) and %d provider(s) and %d medical director(s) into %s\n", len(seed.Clinics), len(seed.Providers), len(seed.MedicalDirectors), tt.name)
	return nil
}

// runIndexSLA puts the table's queued exams that lack the SLA-due index's
// keys on it.
func runIndexSLA(ctx context.Context, args []string, out io.Writer) error {
	tt, _, err := parseTableFlags("index-sla", args, 0)
	if err != nil {
		return err
	}
	st, err := tt.open(ctx)
	if err != nil {
		return err
	}
	// IndexSLA reads the states' queues (Rules) and rewrites exams through
	// the store; the clock is the real one should it ever stamp anything.
	exams := &exam.Service{Store: st, Rules: rules.Default(), Clock: clock.System{}}
	n, err := exams.IndexSLA(ctx)
	fmt.Fprintf(out, "put %d queued exam(s) on the SLA index of %s\n", n, tt.name)
	return err
}

// tableTarget names the stack's table and how to reach it: the flags
// every subcommand shares.
type tableTarget struct {
	name, region, endpoint string
}

// parseTableFlags parses a subcommand's arguments: the table flags (-table
// required), then exactly nargs arguments, which it returns.
func parseTableFlags(subcommand string, args []string, nargs int) (tableTarget, []string, error) {
	var t tableTarget
	fs := flag.NewFlagSet(subcommand, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&t.name, "table", "", "the stack's DynamoDB table (output TableName)")
	fs.StringVar(&t.region, "region", "", "AWS region (default: the SDK's)")
	fs.StringVar(&t.endpoint, "endpoint", "", "DynamoDB endpoint (tests: DynamoDB Local)")
	if err := fs.Parse(args); err != nil {
		return tableTarget{}, nil, fmt.Errorf("%v\n%s", err, usage)
	}
	if t.name == "" || fs.NArg() != nargs {
		return tableTarget{}, nil, errors.New(usage)
	}
	return t, fs.Args(), nil
}

// open is the store on the table, after checking that the table exists
// (so a mistyped name fails here, not at the first write).
func (t tableTarget) open(ctx context.Context) (*dynamo.Store, error) {
	var opts []func(*config.LoadOptions) error
	if t.region != "" {
		opts = append(opts, config.WithRegion(t.region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, err
	}
	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		if t.endpoint != "" {
			o.BaseEndpoint = aws.String(t.endpoint)
		}
	})
	if _, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(t.name)}); err != nil {
		return nil, fmt.Errorf("table %s: %w", t.name, err)
	}
	return dynamo.New(db, t.name), nil
}
