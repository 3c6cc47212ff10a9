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

	"github.com/goodfaith/goodfaith/internal/auth"
	"github.com/goodfaith/goodfaith/internal/directory"
	"github.com/goodfaith/goodfaith/internal/exam"
	"github.com/goodfaith/goodfaith/internal/store"
	"github.com/goodfaith/goodfaith/internal/store/dynamo"
	"github.com/goodfaith/goodfaith/internal/testenv"
)

// newTable creates a fresh table on DynamoDB Local and points the AWS SDK's
// default configuration (what the command loads) at static test
// credentials; it returns the endpoint, the table and a store on it.
func newTable(t *testing.T) (endpoint, table string, st *dynamo.Store) {
	t.Helper()
	endpoint = testenv.DynamoDB(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "admintest")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "admintest")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	db := dynamodb.New(dynamodb.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("admintest", "admintest", ""),
	})
	table = fmt.Sprintf("goodfaith-admin-%d", time.Now().UnixNano()%1e9)
	if err := dynamo.CreateTable(t.Context(), db, table); err != nil {
		t.Fatal(err)
	}
	return endpoint, table, dynamo.New(db, table)
}

func TestSeedLoadsTheDirectoryIntoDynamoDB(t *testing.T) {
	endpoint, table, st := newTable(t)
	ctx := context.Background()
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
	dir := directory.Directory{Store: st}
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

// A queued exam a build from before the SLA-due index wrote (no GSI3 keys)
// is put on the index by index-sla, once; an exam already on it is left
// alone; a missing table is an error.
func TestIndexSLAPutsOlderQueuedExamsOnTheIndex(t *testing.T) {
	endpoint, table, st := newTable(t)
	ctx := t.Context()
	now := time.Now().UTC()
	queued := func(id string) exam.Exam {
		return exam.Exam{
			ID: id, ClinicID: "clinic_a", Status: exam.Queued, State: "TX", Treatments: []string{"neurotoxin"},
			Modality: "video", ModalitiesAllowed: []string{"video"},
			Patient:   exam.Patient{FirstName: "Maria", LastName: "Garcia", DOB: "1990-04-12", Email: "m@example.com", State: "TX"},
			Consents:  exam.Consents{Telehealth: true, Privacy: true},
			CreatedAt: now, UpdatedAt: now, SubmittedAt: &now, QueuedAt: &now, History: []exam.Transition{},
			SLA: &exam.SLA{EscalateAt: now.Add(5 * time.Minute), Deadline: now.Add(30 * time.Minute)},
		}
	}
	want := exam.ToItem(queued("ex_older"), 1)
	if want.GSI3PK != exam.SLAIndexPK || want.GSI3SK == "" {
		t.Fatalf("this build writes a queued exam with GSI3 keys %q/%q; want it on the SLA index", want.GSI3PK, want.GSI3SK)
	}
	older := want
	older.GSI3PK, older.GSI3SK = "", ""
	current := exam.ToItem(queued("ex_current"), 1)
	for _, it := range []store.Item{older, current} {
		if err := st.Put(ctx, it, store.IfAbsent); err != nil {
			t.Fatal(err)
		}
	}

	for i, wantOut := range []string{"put 1 queued exam(s)", "put 0 queued exam(s)"} { // idempotent
		var out bytes.Buffer
		if err := run(ctx, []string{"index-sla", "-table", table, "-endpoint", endpoint}, &out); err != nil {
			t.Fatalf("index-sla (run %d): %v", i+1, err)
		}
		if got := out.String(); got != wantOut+" on the SLA index of "+table+"\n" {
			t.Errorf("run %d printed %q; want %q", i+1, got, wantOut)
		}
	}
	got, err := st.Get(ctx, store.Key{PK: want.PK, SK: want.SK})
	if err != nil {
		t.Fatal(err)
	}
	if got.GSI3PK != want.GSI3PK || got.GSI3SK != want.GSI3SK || got.Version != 2 {
		t.Errorf("older exam after index-sla: GSI3 %q/%q at version %d; want %q/%q at version 2", got.GSI3PK, got.GSI3SK, got.Version, want.GSI3PK, want.GSI3SK)
	}
	if e, err := exam.FromItem(got); err != nil || e.Status != exam.Queued || !e.UpdatedAt.Equal(now) {
		t.Errorf("older exam after index-sla: %+v, %v; want it queued and otherwise unchanged", e, err)
	}
	if got, err := st.Get(ctx, store.Key{PK: current.PK, SK: current.SK}); err != nil || got.Version != 1 {
		t.Errorf("the exam already on the index was rewritten: version %d, %v", got.Version, err)
	}

	if err := run(ctx, []string{"index-sla", "-table", table + "-missing", "-endpoint", endpoint}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), table+"-missing") {
		t.Errorf("index-sla on a missing table: %v; want an error naming it", err)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		nil, {"other"}, {"seed"}, {"seed", "-table", "t"}, {"seed", "file"},
		{"index-sla"}, {"index-sla", "-table"}, {"index-sla", "-table", "t", "extra"}, {"index-sla", "-bogus", "x"},
	} {
		if err := run(context.Background(), args, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "usage") {
			t.Errorf("run(%q) = %v; want the usage", args, err)
		}
	}
}
