package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/goodfaith/goodfaith/internal/store"
	"github.com/goodfaith/goodfaith/internal/store/dynamo"
	"github.com/goodfaith/goodfaith/internal/store/dynamo/dynamotest"
)

// open returns a store on a fresh table.
func open(tb testing.TB) *dynamo.Store { return dynamotest.Open(tb) }

func TestCreateTableIsIdempotent(t *testing.T) {
	db := dynamotest.Client(t)
	name := dynamotest.NewTable(t, db)
	if err := dynamo.CreateTable(t.Context(), db, name); err != nil {
		t.Fatalf("second CreateTable: %v", err)
	}
	out, err := db.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	var idx []string
	for _, g := range out.Table.GlobalSecondaryIndexes {
		idx = append(idx, aws.ToString(g.IndexName))
	}
	slices.Sort(idx)
	if !slices.Equal(idx, []string{"gsi1", "gsi2", "gsi3"}) {
		t.Errorf("indexes = %v, want gsi1, gsi2, gsi3", idx)
	}
	if ss := out.Table.StreamSpecification; ss == nil || !aws.ToBool(ss.StreamEnabled) || ss.StreamViewType != types.StreamViewTypeNewAndOldImages {
		t.Errorf("stream = %+v, want NEW_AND_OLD_IMAGES", ss)
	}
	ttl, err := db.DescribeTimeToLive(t.Context(), &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	if d := ttl.TimeToLiveDescription; d == nil || aws.ToString(d.AttributeName) != "ttl" || d.TimeToLiveStatus != types.TimeToLiveStatusEnabled {
		t.Errorf("TTL = %+v, want enabled on ttl", d)
	}
}

func TestCreateTableRefusesAnotherSchema(t *testing.T) {
	db := dynamotest.Client(t)
	name := "goodfaith-test-plain-" + fmt.Sprint(time.Now().UnixNano())
	_, err := db.CreateTable(t.Context(), &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	})
	if err := dynamo.CreateTable(t.Context(), db, name); err == nil || !strings.Contains(err.Error(), "another schema") {
		t.Fatalf("CreateTable over a table with another schema = %v, want a schema error", err)
	}
}

func TestItemRoundTrip(t *testing.T) {
	s := open(t)
	full := store.Item{
		PK: "EXAM#1", SK: "META",
		GSI1PK: "CLINIC#7", GSI1SK: "2026-01-02T03:04:05Z",
		GSI2PK: "QUEUE#TX", GSI2SK: "0001",
		GSI3PK: "SLA", GSI3SK: "2026-01-02T04:04:05Z",
		Version:   3,
		ExpiresAt: time.Date(2099, 1, 2, 3, 4, 5, 0, time.UTC),
		Data:      []byte{0, 0xff, 0xfe, '{', '}'}, // not UTF-8
	}
	dynamotest.MustPut(t, s, full, store.IfAbsent)
	got, err := s.Get(t.Context(), full.Key())
	if err != nil || !dynamotest.SameItem(got, full) {
		t.Fatalf("Get = %+v, %v; want %+v", got, err, full)
	}

	// A Put replaces the whole item: dropped index keys leave the index,
	// dropped expiry and data read back empty.
	bare := store.Item{PK: "EXAM#1", SK: "META", Version: 4}
	dynamotest.MustPut(t, s, bare, store.IfVersion(3))
	got, err = s.Get(t.Context(), bare.Key())
	if err != nil || !dynamotest.SameItem(got, bare) || !got.ExpiresAt.IsZero() || got.Data != nil {
		t.Fatalf("Get after replace = %+v, %v; want %+v", got, err, bare)
	}
	page, err := s.Query(t.Context(), store.Query{Index: store.ByGSI1, PK: "CLINIC#7"})
	if err != nil || len(page.Items) != 0 {
		t.Fatalf("ByGSI1 after clearing GSI1 = %+v, %v; want empty", page, err)
	}

	// Sub-second expiry is kept to the second.
	frac := store.Item{PK: "EXAM#2", SK: "META", Version: 1, ExpiresAt: time.Date(2099, 1, 2, 3, 4, 5, 987654321, time.UTC)}
	dynamotest.MustPut(t, s, frac, store.None)
	got, err = s.Get(t.Context(), frac.Key())
	if err != nil || !got.ExpiresAt.Equal(time.Date(2099, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Fatalf("Get = %+v, %v; want ExpiresAt truncated to the second", got, err)
	}

	if _, err := s.Get(t.Context(), store.Key{PK: "EXAM#404", SK: "META"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get(missing) = %v, want ErrNotFound", err)
	}
	for _, k := range []store.Key{{PK: "", SK: "x"}, {PK: "x", SK: ""}} {
		if err := s.Put(t.Context(), store.Item{PK: k.PK, SK: k.SK}, store.None); err == nil {
			t.Errorf("Put(%+v) with an empty key succeeded", k)
		}
	}
	for _, it := range []store.Item{
		{PK: "x", SK: "y", GSI1PK: "g"},
		{PK: "x", SK: "y", GSI2PK: "g"},
		{PK: "x", SK: "y", GSI3PK: "g"},
	} {
		if err := s.Put(t.Context(), it, store.None); err == nil {
			t.Errorf("Put(%+v) with an index PK but no index SK succeeded", it)
		}
		if err := s.Transact(t.Context(), store.Op{Put: &it}); err == nil {
			t.Errorf("Transact(Put %+v) with an index PK but no index SK succeeded", it)
		}
	}
	// An index sort key alone is kept, and the item stays out of the index.
	skOnly := store.Item{PK: "x", SK: "sk-only", GSI1SK: "s", Version: 1}
	dynamotest.MustPut(t, s, skOnly, store.None)
	if got, err := s.Get(t.Context(), skOnly.Key()); err != nil || !dynamotest.SameItem(got, skOnly) {
		t.Errorf("Get = %+v, %v; want %+v", got, err, skOnly)
	}
	if err := s.Put(t.Context(), store.Item{PK: "CHECKPOINT#x", SK: "y"}, store.None); err == nil {
		t.Error("Put under the reserved CHECKPOINT# prefix succeeded")
	}
}

func TestConditions(t *testing.T) {
	s := open(t)
	ctx := t.Context()
	v1 := store.Item{PK: "P", SK: "S", Version: 1, Data: []byte(`{"n":1}`)}
	v2 := store.Item{PK: "P", SK: "S", Version: 2, Data: []byte(`{"n":2}`)}
	missing := store.Key{PK: "P", SK: "none"}

	dynamotest.MustPut(t, s, v1, store.IfAbsent)
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"IfAbsent over existing", s.Put(ctx, v2, store.IfAbsent)},
		{"IfVersion wrong", s.Put(ctx, v2, store.IfVersion(7))},
		{"IfExists missing", s.Put(ctx, store.Item{PK: "P", SK: "none", Version: 1}, store.IfExists)},
		{"IfVersion(0) missing", s.Put(ctx, store.Item{PK: "P", SK: "none", Version: 1}, store.IfVersion(0))},
		{"Delete IfVersion wrong", s.Delete(ctx, v1.Key(), store.IfVersion(9))},
		{"Delete IfExists missing", s.Delete(ctx, missing, store.IfExists)},
		{"Delete IfAbsent existing", s.Delete(ctx, v1.Key(), store.IfAbsent)},
	} {
		if !errors.Is(tc.err, store.ErrConditionFailed) {
			t.Errorf("%s: err = %v, want ErrConditionFailed", tc.name, tc.err)
		}
	}
	if got, err := s.Get(ctx, v1.Key()); err != nil || !dynamotest.SameItem(got, v1) {
		t.Fatalf("after refused writes Get = %+v, %v; want %+v", got, err, v1)
	}
	if _, err := s.Get(ctx, missing); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("refused write created %v: %v", missing, err)
	}

	dynamotest.MustPut(t, s, v2, store.IfVersion(1))
	dynamotest.MustPut(t, s, v2, store.IfExists)
	if err := s.Delete(ctx, missing, store.None); err != nil {
		t.Errorf("Delete(missing, None) = %v", err)
	}
	if err := s.Delete(ctx, missing, store.IfAbsent); err != nil {
		t.Errorf("Delete(missing, IfAbsent) = %v", err)
	}
	if err := s.Delete(ctx, v2.Key(), store.IfVersion(2)); err != nil {
		t.Fatalf("Delete(IfVersion(2)) = %v", err)
	}
	if _, err := s.Get(ctx, v2.Key()); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get after delete = %v, want ErrNotFound", err)
	}
	if err := s.Put(ctx, v1, store.Condition{Kind: 42}); err == nil {
		t.Error("Put with an unknown condition kind succeeded")
	}
}

func TestTransact(t *testing.T) {
	s := open(t)
	ctx := t.Context()
	a := store.Item{PK: "T", SK: "a", Version: 1}
	b := store.Item{PK: "T", SK: "b", Version: 1}
	dynamotest.MustPut(t, s, a, store.IfAbsent)

	a2 := store.Item{PK: "T", SK: "a", Version: 2, Data: []byte("a2")}
	c := store.Item{PK: "T", SK: "c", Version: 1}
	err := s.Transact(ctx,
		store.Op{Put: &a2, Cond: store.IfVersion(1)},
		store.Op{Put: &c, Cond: store.IfAbsent},
		store.Op{Check: &store.Key{PK: "T", SK: "b"}, Cond: store.IfAbsent},
		store.Op{Check: &store.Key{PK: "T", SK: "z"}}, // unconditional: always holds
	)
	if err != nil {
		t.Fatalf("Transact: %v", err)
	}

	// A failing check cancels everything.
	a3 := store.Item{PK: "T", SK: "a", Version: 3}
	err = s.Transact(ctx,
		store.Op{Put: &a3, Cond: store.IfVersion(2)},
		store.Op{Put: &b, Cond: store.IfAbsent},
		store.Op{Check: &store.Key{PK: "T", SK: "c"}, Cond: store.IfVersion(5)},
	)
	if !errors.Is(err, store.ErrConditionFailed) {
		t.Fatalf("Transact with a failing check = %v, want ErrConditionFailed", err)
	}
	err = s.Transact(ctx, store.Op{Delete: &store.Key{PK: "T", SK: "c"}, Cond: store.IfVersion(1)},
		store.Op{Put: &b, Cond: store.IfExists})
	if !errors.Is(err, store.ErrConditionFailed) {
		t.Fatalf("Transact with a failing put = %v, want ErrConditionFailed", err)
	}
	items, err := s.Scan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(items, func(x, y store.Item) int { return strings.Compare(x.SK, y.SK) })
	if len(items) != 2 || !dynamotest.SameItem(items[0], a2) || !dynamotest.SameItem(items[1], c) {
		t.Fatalf("state after transactions = %+v, want %+v and %+v", items, a2, c)
	}

	// Limits are checked before DynamoDB is called.
	many := make([]store.Op, store.MaxTransactOps+1)
	for i := range many {
		many[i] = store.Op{Check: &store.Key{PK: "T", SK: fmt.Sprint(i)}, Cond: store.IfAbsent}
	}
	if err := s.Transact(ctx, many...); !errors.Is(err, store.ErrTooManyOps) {
		t.Errorf("Transact(%d ops) = %v, want ErrTooManyOps", len(many), err)
	}
	if err := s.Transact(ctx, many[:store.MaxTransactOps]...); err != nil {
		t.Errorf("Transact(%d ops) = %v", store.MaxTransactOps, err)
	}
	if err := s.Transact(ctx,
		store.Op{Put: &b, Cond: store.IfAbsent},
		store.Op{Check: &store.Key{PK: "T", SK: "b"}}); !errors.Is(err, store.ErrTooManyOps) {
		t.Errorf("Transact with a repeated key = %v, want ErrTooManyOps", err)
	}
	for _, op := range []store.Op{{}, {Put: &b, Delete: &store.Key{PK: "T", SK: "b"}}} {
		if err := s.Transact(ctx, op); err == nil || errors.Is(err, store.ErrTooManyOps) {
			t.Errorf("Transact(%+v) = %v, want an invalid-op error", op, err)
		}
	}
	if err := s.Transact(ctx); err != nil {
		t.Errorf("empty Transact = %v", err)
	}
}

// TestConcurrentWriters checks that of many writers racing on one version
// exactly one wins and the others see ErrConditionFailed, for single writes
// and transactions alike (transaction conflicts are retried, not leaked).
func TestConcurrentWriters(t *testing.T) {
	s := open(t)
	ctx := t.Context()
	for _, useTransact := range []bool{false, true} {
		key := store.Key{PK: "RACE", SK: fmt.Sprint(useTransact)}
		dynamotest.MustPut(t, s, store.Item{PK: key.PK, SK: key.SK, Version: 1}, store.IfAbsent)
		const writers = 12
		errs := make([]error, writers)
		var wg sync.WaitGroup
		for i := range writers {
			wg.Go(func() {
				it := store.Item{PK: key.PK, SK: key.SK, Version: 2, Data: []byte(fmt.Sprint(i))}
				other := store.Item{PK: "RACE-SIDE", SK: fmt.Sprintf("%v-%d", useTransact, i), Version: 1}
				if useTransact {
					errs[i] = s.Transact(ctx, store.Op{Put: &it, Cond: store.IfVersion(1)}, store.Op{Put: &other, Cond: store.IfAbsent})
				} else {
					errs[i] = s.Put(ctx, it, store.IfVersion(1))
				}
			})
		}
		wg.Wait()
		wins := 0
		for i, err := range errs {
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, store.ErrConditionFailed):
				t.Errorf("transact=%v writer %d: %v", useTransact, i, err)
			}
		}
		if wins != 1 {
			t.Errorf("transact=%v: %d writers won, want 1", useTransact, wins)
		}
	}
}

func TestScanHidesCheckpoints(t *testing.T) {
	s := open(t)
	it := store.Item{PK: "A", SK: "1", Version: 1}
	dynamotest.MustPut(t, s, it, store.IfAbsent)
	checkpoint := store.Item{PK: dynamo.CheckpointPrefix + "scanner", SK: "shard-1", Version: 1, Data: []byte(`{"seq":"1"}`)}
	if err := s.PutCheckpoint(t.Context(), checkpoint); err != nil {
		t.Fatal(err)
	}
	items, err := s.Scan(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || !dynamotest.SameItem(items[0], it) {
		t.Fatalf("Scan = %+v, want only %+v", items, it)
	}
}

// TestCheckpointKeysAreReserved: Put refuses a checkpoint's key and
// PutCheckpoint any other.
func TestCheckpointKeysAreReserved(t *testing.T) {
	s := open(t)
	if err := s.Put(t.Context(), store.Item{PK: dynamo.CheckpointPrefix + "x", SK: "1", Version: 1}, store.None); err == nil {
		t.Error("Put wrote under the checkpoints' prefix")
	}
	if err := s.PutCheckpoint(t.Context(), store.Item{PK: "A", SK: "1", Version: 1}); err == nil {
		t.Error("PutCheckpoint wrote a domain key")
	}
	if _, err := s.Get(t.Context(), store.Key{PK: "A", SK: "1"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after the refused PutCheckpoint, Get = %v; want ErrNotFound", err)
	}
}
