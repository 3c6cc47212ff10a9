package streamfeed_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/goodfaith/goodfaith/internal/store"
	"github.com/goodfaith/goodfaith/internal/store/dynamo"
	"github.com/goodfaith/goodfaith/internal/store/dynamo/dynamotest"
	"github.com/goodfaith/goodfaith/internal/store/dynamo/streamfeed"
)

// open returns a store on a fresh table and the table's change feed.
func open(tb testing.TB) (*dynamo.Store, *streamfeed.Feed) {
	s := dynamotest.Open(tb)
	return s, dynamotest.Feed(tb, s)
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s after %v", what, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// collector runs one Consume and records what it delivers.
type collector struct {
	mu      sync.Mutex
	changes []store.Change
	batches int
	// fail makes the handler fail while it returns true.
	fail func(batch []store.Change) bool

	cancel   context.CancelFunc
	done     chan error
	stopOnce sync.Once
}

func consume(t *testing.T, f store.ChangeFeed, consumer string, fail func([]store.Change) bool) *collector {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	c := &collector{fail: fail, cancel: cancel, done: make(chan error, 1)}
	go func() {
		c.done <- f.Consume(ctx, consumer, func(_ context.Context, batch []store.Change) error {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.batches++
			if c.fail != nil && c.fail(batch) {
				return errors.New("handler refuses this batch")
			}
			c.changes = append(c.changes, batch...)
			return nil
		})
	}()
	t.Cleanup(func() { c.stop(t) })
	return c
}

// stop cancels Consume and checks that it returns context.Canceled soon.
func (c *collector) stop(t *testing.T) {
	t.Helper()
	c.stopOnce.Do(func() {
		c.cancel()
		select {
		case err := <-c.done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Consume returned %v, want context.Canceled", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Consume did not return within 10s of cancellation")
		}
	})
}

func (c *collector) snapshot() []store.Change {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.changes)
}

func (c *collector) waitCount(t *testing.T, n int) []store.Change {
	t.Helper()
	waitFor(t, 30*time.Second, fmt.Sprintf("%d changes", n), func() bool { return len(c.snapshot()) >= n })
	return c.snapshot()
}

func TestFeedDeliversChanges(t *testing.T) {
	s, feed := open(t)
	ctx := t.Context()
	// Written before the first Consume: a new consumer starts at the oldest.
	a1 := store.Item{PK: "K", SK: "a", Version: 1, Data: []byte("one"), GSI1PK: "G", GSI1SK: "1"}
	a2 := store.Item{PK: "K", SK: "a", Version: 2, Data: []byte("two")}
	b1 := store.Item{PK: "K", SK: "b", Version: 1}
	dynamotest.MustPut(t, s, a1, store.IfAbsent)
	dynamotest.MustPut(t, s, a2, store.IfVersion(1))
	if err := s.Transact(ctx, store.Op{Put: &b1, Cond: store.IfAbsent}, store.Op{Delete: &store.Key{PK: "K", SK: "a"}, Cond: store.IfVersion(2)}); err != nil {
		t.Fatal(err)
	}
	// Nothing on the feed: failed writes, deletes of missing items.
	if err := s.Put(ctx, a1, store.IfExists); !errors.Is(err, store.ErrConditionFailed) {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, store.Key{PK: "K", SK: "zz"}, store.None); err != nil {
		t.Fatal(err)
	}

	c := consume(t, feed, "first", nil)
	c.waitCount(t, 4)
	time.Sleep(500 * time.Millisecond)
	got := c.snapshot()
	if len(got) != 4 {
		t.Fatalf("got %d changes, want 4: %+v", len(got), got)
	}
	var forA []store.Change
	var ids []string
	for _, ch := range got {
		ids = append(ids, ch.ID)
		if ch.Key.SK == "a" {
			forA = append(forA, ch)
		}
		if ch.ID == "" || ch.At.IsZero() {
			t.Errorf("change %+v lacks ID or At", ch)
		}
	}
	if len(forA) != 3 {
		t.Fatalf("changes of K|a = %+v, want create, update, delete", forA)
	}
	if forA[0].Old != nil || forA[0].New == nil || !dynamotest.SameItem(*forA[0].New, a1) {
		t.Errorf("create = %+v", forA[0])
	}
	if forA[1].Old == nil || !dynamotest.SameItem(*forA[1].Old, a1) || forA[1].New == nil || !dynamotest.SameItem(*forA[1].New, a2) {
		t.Errorf("update = %+v", forA[1])
	}
	if forA[2].Old == nil || !dynamotest.SameItem(*forA[2].Old, a2) || forA[2].New != nil {
		t.Errorf("delete = %+v", forA[2])
	}
	if u := slices.Compact(slices.Sorted(slices.Values(ids))); len(u) != len(ids) {
		t.Errorf("IDs repeat: %v", ids)
	}

	// Another consumer sees the same changes with the same IDs.
	other := consume(t, feed, "second", nil)
	var otherIDs []string
	for _, ch := range other.waitCount(t, 4) {
		otherIDs = append(otherIDs, ch.ID)
	}
	if !slices.Equal(otherIDs, ids) {
		t.Errorf("second consumer IDs %v, first %v", otherIDs, ids)
	}
}

func TestFeedResumesAfterCheckpoint(t *testing.T) {
	s, feed := open(t)
	for i := range 5 {
		dynamotest.MustPut(t, s, store.Item{PK: "R", SK: fmt.Sprint(i), Version: 1}, store.IfAbsent)
	}
	c := consume(t, feed, "resumer", nil)
	first := c.waitCount(t, 5)
	c.stop(t)

	for i := 5; i < 8; i++ {
		dynamotest.MustPut(t, s, store.Item{PK: "R", SK: fmt.Sprint(i), Version: 1}, store.IfAbsent)
	}
	c = consume(t, feed, "resumer", nil)
	c.waitCount(t, 3)
	time.Sleep(500 * time.Millisecond)
	second := c.snapshot()
	seen := map[string]bool{}
	for _, ch := range first {
		seen[ch.ID] = true
	}
	var sks []string
	for _, ch := range second {
		if seen[ch.ID] {
			t.Errorf("change %s (%s) delivered again after its checkpoint", ch.ID, ch.Key.SK)
		}
		sks = append(sks, ch.Key.SK)
	}
	if !slices.Equal(sks, []string{"5", "6", "7"}) {
		t.Errorf("after restart got %v, want [5 6 7]", sks)
	}
}

func TestFeedRedeliversAfterHandlerError(t *testing.T) {
	s, feed := open(t)
	for i := range 3 {
		dynamotest.MustPut(t, s, store.Item{PK: "E", SK: fmt.Sprint(i), Version: 1}, store.IfAbsent)
	}
	var mu sync.Mutex
	var attempts [][]string
	c := consume(t, feed, "flaky", func(batch []store.Change) bool {
		mu.Lock()
		defer mu.Unlock()
		var ids []string
		for _, ch := range batch {
			ids = append(ids, ch.ID)
		}
		attempts = append(attempts, ids)
		return len(attempts) <= 2
	})
	got := c.waitCount(t, 3)
	mu.Lock()
	defer mu.Unlock()
	if len(attempts) < 3 {
		t.Fatalf("handler called %d times, want 3 or more", len(attempts))
	}
	for i := 1; i < 3; i++ {
		if !slices.Equal(attempts[i], attempts[0]) {
			t.Errorf("attempt %d delivered %v, first attempt %v; want the same batch", i+1, attempts[i], attempts[0])
		}
	}
	if len(got) != 3 {
		t.Errorf("delivered %d changes, want 3", len(got))
	}
}

// TestFeedCheckpointsDoNotFeedBack runs two consumers, each seeing the
// other's checkpoint writes on the stream, and checks that once they have
// caught up neither keeps writing checkpoints or calling its handler.
func TestFeedCheckpointsDoNotFeedBack(t *testing.T) {
	s, feed := open(t)
	dynamotest.MustPut(t, s, store.Item{PK: "F", SK: "1", Version: 1}, store.IfAbsent)
	a := consume(t, feed, "alpha", nil)
	b := consume(t, feed, "beta", nil)
	a.waitCount(t, 1)
	b.waitCount(t, 1)

	versions := func() map[string]int64 {
		m := map[string]int64{}
		for _, c := range []string{"alpha", "beta"} {
			page, err := s.Query(t.Context(), store.Query{PK: "CHECKPOINT#" + c})
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range page.Items {
				m[c+"/"+it.SK] = it.Version
			}
		}
		return m
	}
	time.Sleep(time.Second)
	before := versions()
	batchesBefore := a.batches + b.batches
	time.Sleep(1500 * time.Millisecond)
	after := versions()
	if fmt.Sprint(before) != fmt.Sprint(after) {
		t.Errorf("checkpoints kept changing while idle: %v then %v", before, after)
	}
	a.mu.Lock()
	b.mu.Lock()
	batchesAfter := a.batches + b.batches
	b.mu.Unlock()
	a.mu.Unlock()
	if batchesAfter != batchesBefore {
		t.Errorf("handlers called %d more times while idle", batchesAfter-batchesBefore)
	}
	if n := len(a.snapshot()); n != 1 {
		t.Errorf("alpha got %d changes, want 1", n)
	}
}

func TestFeedWithoutStreamFails(t *testing.T) {
	db := dynamotest.Client(t)
	name := fmt.Sprintf("goodfaith-test-nostream-%d", time.Now().UnixNano())
	_, err := db.CreateTable(t.Context(), &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}, {AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}, {AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	})
	feed := dynamotest.Feed(t, dynamo.New(db, name))
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	err = feed.Consume(ctx, "x", func(context.Context, []store.Change) error { return nil })
	if err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Consume on a table without a stream = %v, want an immediate error", err)
	}
	if err := streamfeed.New(dynamo.New(db, name), nil).Consume(ctx, "x", func(context.Context, []store.Change) error { return nil }); err == nil {
		t.Error("Consume without a streams client succeeded")
	}
}
