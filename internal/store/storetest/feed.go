package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goodfaith/goodfaith/internal/store"
)

var feedTests = []subtest{
	{"CreateUpdateDelete", testFeedCreateUpdateDelete},
	{"TransactAndRefusedWrites", testFeedTransactAndRefused},
	{"RedeliveryAfterHandlerError", testFeedRedelivery},
	{"IndependentConsumers", testFeedIndependentConsumers},
	{"RestartResumes", testFeedRestart},
	{"PerKeyCommitOrder", testFeedPerKeyOrder},
	{"ConsumeReturnsContextError", testFeedCancel},
}

// consumer runs Consume in the background and records every batch handed
// to its handler, failed ones included.
type consumer struct {
	name   string
	cancel context.CancelFunc
	done   chan struct{}
	err    error // Consume's result, set before done closes

	mu    sync.Mutex
	calls []call
}

type call struct {
	changes []store.Change
	err     error // what the handler returned
}

// startConsumer starts Consume under name. decide, if not nil, chooses what
// the handler returns for its n-th call (from 0); by default it succeeds.
func startConsumer(t *testing.T, feed store.ChangeFeed, name string, decide func(n int, changes []store.Change) error) *consumer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c := &consumer{name: name, cancel: cancel, done: make(chan struct{})}
	handle := func(ctx context.Context, changes []store.Change) error {
		c.mu.Lock()
		n := len(c.calls)
		c.mu.Unlock()
		var err error
		if decide != nil {
			err = decide(n, changes)
		}
		c.mu.Lock()
		c.calls = append(c.calls, call{changes: append([]store.Change(nil), changes...), err: err})
		c.mu.Unlock()
		return err
	}
	go func() {
		defer close(c.done)
		c.err = feed.Consume(ctx, name, handle)
	}()
	t.Cleanup(func() {
		c.cancel()
		select {
		case <-c.done:
		case <-time.After(stopWait):
			t.Errorf("consumer %q: Consume did not return within %v of cancellation", name, stopWait)
		}
	})
	return c
}

// stop cancels the consumer and asserts Consume returned context.Canceled.
func (c *consumer) stop(t *testing.T) {
	t.Helper()
	c.cancel()
	select {
	case <-c.done:
	case <-time.After(stopWait):
		t.Fatalf("consumer %q: Consume did not return within %v of cancellation", c.name, stopWait)
	}
	if !errors.Is(c.err, context.Canceled) {
		t.Fatalf("consumer %q: Consume returned %v after cancellation; want context.Canceled", c.name, c.err)
	}
}

func (c *consumer) snapshot() []call {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]call(nil), c.calls...)
}

// handled returns the changes of successful calls, each ID once, in the
// order first delivered.
func (c *consumer) handled() []store.Change {
	var all []store.Change
	for _, cl := range c.snapshot() {
		if cl.err == nil {
			all = append(all, cl.changes...)
		}
	}
	return uniqueByID(all)
}

// waitFor polls check against the consumer's handled changes.
func (c *consumer) waitFor(t *testing.T, what string, check func(handled []store.Change) error) {
	t.Helper()
	eventually(t, feedWait, fmt.Sprintf("consumer %q: %s", c.name, what), func() error {
		select {
		case <-c.done:
			return fmt.Errorf("consume returned early: %v", c.err)
		default:
		}
		return check(c.handled())
	})
}

func uniqueByID(changes []store.Change) []store.Change {
	seen := map[string]bool{}
	var out []store.Change
	for _, ch := range changes {
		if !seen[ch.ID] {
			seen[ch.ID] = true
			out = append(out, ch)
		}
	}
	return out
}

// ofPK keeps the changes to keys under pk, so that an adapter's own
// bookkeeping writes, if it feeds them, do not disturb the tests.
func ofPK(changes []store.Change, pk string) []store.Change {
	var out []store.Change
	for _, ch := range changes {
		if ch.Key.PK == pk || strings.HasPrefix(ch.Key.PK, pk+"/") {
			out = append(out, ch)
		}
	}
	return out
}

func ofKey(changes []store.Change, k store.Key) []store.Change {
	var out []store.Change
	for _, ch := range changes {
		if ch.Key == k {
			out = append(out, ch)
		}
	}
	return out
}

// atLeast is a waitFor check: at least n changes under pk.
func atLeast(pk string, n int) func([]store.Change) error {
	return func(handled []store.Change) error {
		if got := len(ofPK(handled, pk)); got < n {
			return fmt.Errorf("%d changes under %q, want %d", got, pk, n)
		}
		return nil
	}
}

// changeDiff describes how ch differs from the change of key from old to
// new (nil for absent), or returns "".
func changeDiff(ch store.Change, key store.Key, old, new *store.Item) string {
	var d []string
	if ch.ID == "" {
		d = append(d, "empty ID")
	}
	if ch.Key != key {
		d = append(d, fmt.Sprintf("Key = %v, want %v", ch.Key, key))
	}
	if ch.At.IsZero() {
		d = append(d, "zero At")
	}
	image := func(name string, got, want *store.Item) {
		switch {
		case want == nil && got != nil:
			d = append(d, fmt.Sprintf("%s = %+v, want nil", name, *got))
		case want != nil && got == nil:
			d = append(d, fmt.Sprintf("%s = nil, want version %d", name, want.Version))
		case want != nil:
			if diff := itemDiff(*want, *got); diff != "" {
				d = append(d, name+": "+diff)
			}
		}
	}
	image("Old", ch.Old, old)
	image("New", ch.New, new)
	return strings.Join(d, "; ")
}

// wantChanges asserts the changes to key, in order, go from nil through
// each of states to the last; a nil state is a deletion.
func wantChanges(t *testing.T, changes []store.Change, key store.Key, states ...*store.Item) {
	t.Helper()
	got := ofKey(changes, key)
	if len(got) != len(states) {
		t.Fatalf("%d changes to %v, want %d: %s", len(got), key, len(states), describe(got))
	}
	var old *store.Item
	for i, state := range states {
		if d := changeDiff(got[i], key, old, state); d != "" {
			t.Fatalf("change %d to %v: %s (all: %s)", i, key, d, describe(got))
		}
		old = state
	}
}

func describe(changes []store.Change) string {
	parts := make([]string, len(changes))
	version := func(it *store.Item) string {
		if it == nil {
			return "nil"
		}
		return fmt.Sprint("v", it.Version)
	}
	for i, ch := range changes {
		parts[i] = fmt.Sprintf("%s:%s|%s:%s→%s", ch.ID, ch.Key.PK, ch.Key.SK, version(ch.Old), version(ch.New))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func ptr[T any](v T) *T { return &v }

func testFeedCreateUpdateDelete(t *testing.T, open opener) {
	s, feed := openBoth(t, open)
	pk := "feed-cud"
	k := store.Key{PK: pk, SK: "exam"}
	v1 := store.Item{
		PK: pk, SK: "exam", GSI1PK: "clinic", GSI1SK: "1", GSI2PK: "queue", GSI2SK: "1", GSI3PK: "due", GSI3SK: "1",
		Version: 1, ExpiresAt: farFuture, Data: []byte{0xff, 0x00, 'a'},
	}
	// Written before the consumer first runs: a new consumer starts at the
	// oldest change the feed holds.
	mustPut(t, s, v1, store.IfAbsent)
	c := startConsumer(t, feed, "cud", nil)
	c.waitFor(t, "creation", atLeast(pk, 1))

	v2 := v1
	v2.Version, v2.GSI2PK, v2.GSI2SK, v2.GSI3PK, v2.GSI3SK, v2.Data = 2, "", "", "", "", []byte(`{"state":"claimed"}`)
	mustPut(t, s, v2, store.IfVersion(1))
	if err := s.Delete(t.Context(), k, store.IfVersion(2)); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	c.waitFor(t, "update and deletion", atLeast(pk, 3))
	c.stop(t)
	wantChanges(t, c.handled(), k, &v1, &v2, nil)
}

func testFeedTransactAndRefused(t *testing.T, open opener) {
	s, feed := openBoth(t, open)
	pk := "feed-tx"
	key := func(sk string) store.Key { return store.Key{PK: pk, SK: sk} }
	item := func(sk string, v int64) store.Item {
		return store.Item{PK: pk, SK: sk, Version: v, Data: fmt.Appendf(nil, "%s%d", sk, v)}
	}
	c := startConsumer(t, feed, "tx", nil)

	checked, updated, deleted := item("checked", 1), item("updated", 1), item("deleted", 1)
	for _, it := range []store.Item{checked, updated, deleted} {
		mustPut(t, s, it, store.IfAbsent)
	}

	// Refused writes to "checked" and "updated" must not reach the feed.
	ctx := t.Context()
	refused := []error{
		s.Put(ctx, item("checked", 9), store.IfAbsent),
		s.Put(ctx, item("checked", 9), store.IfVersion(9)),
		s.Delete(ctx, key("checked"), store.IfVersion(9)),
		s.Transact(ctx,
			store.Op{Put: ptr(item("updated", 9)), Cond: store.IfVersion(1)},
			store.Op{Check: ptr(key("missing")), Cond: store.IfExists},
		),
	}
	for i, err := range refused {
		if !errors.Is(err, store.ErrConditionFailed) {
			t.Fatalf("refused write %d: %v; want store.ErrConditionFailed", i, err)
		}
	}
	// Deleting a missing item changes nothing.
	if err := s.Delete(ctx, key("never"), store.None); err != nil {
		t.Fatalf("Delete of a missing item: %v", err)
	}

	created, updated2 := item("created", 1), item("updated", 2)
	err := s.Transact(ctx,
		store.Op{Put: &created, Cond: store.IfAbsent},
		store.Op{Put: &updated2, Cond: store.IfVersion(1)},
		store.Op{Delete: ptr(key("deleted")), Cond: store.IfVersion(1)},
		store.Op{Check: ptr(key("checked")), Cond: store.IfVersion(1)},
	)
	if err != nil {
		t.Fatalf("Transact: %v", err)
	}
	// Later writes to the keys that saw refused writes, a Check and a no-op
	// delete: once these arrive, per-key order says anything those
	// produced has arrived before them.
	checked2, never := item("checked", 2), item("never", 1)
	mustPut(t, s, checked2, store.IfVersion(1))
	mustPut(t, s, never, store.IfAbsent)

	c.waitFor(t, "every change", atLeast(pk, 8))
	c.stop(t)
	got := ofPK(c.handled(), pk)
	wantChanges(t, got, key("checked"), &checked, &checked2)
	wantChanges(t, got, key("updated"), &updated, &updated2)
	wantChanges(t, got, key("deleted"), &deleted, nil)
	wantChanges(t, got, key("created"), &created)
	wantChanges(t, got, key("never"), &never)
	wantChanges(t, got, key("missing"))
}

func testFeedRedelivery(t *testing.T, open opener) {
	s, feed := openBoth(t, open)
	pk := "feed-retry"
	k := store.Key{PK: pk, SK: "one"}
	var versions []store.Item
	for v := int64(1); v <= 3; v++ {
		it := store.Item{PK: pk, SK: "one", Version: v, Data: fmt.Appendf(nil, "v%d", v)}
		cond := store.IfVersion(v - 1)
		if v == 1 {
			cond = store.IfAbsent
		}
		mustPut(t, s, it, cond)
		versions = append(versions, it)
	}
	errDown := errors.New("handler down")

	// A handler that always fails is handed the same changes again.
	failing := startConsumer(t, feed, "retry", func(int, []store.Change) error { return errDown })
	eventually(t, feedWait, "three attempts of the failing handler", func() error {
		if n := len(failing.snapshot()); n < 3 {
			return fmt.Errorf("%d attempts", n)
		}
		return nil
	})
	failing.stop(t)
	attempts := failing.snapshot()
	first := attempts[0].changes
	if len(first) == 0 {
		t.Fatal("the handler was called with no changes")
	}
	if len(ofKey(first, k)) == 0 {
		t.Fatalf("the first attempt holds no change to %v: %s", k, describe(first))
	}
	if d := changeDiff(ofKey(first, k)[0], k, nil, &versions[0]); d != "" {
		t.Fatalf("first change delivered: %s", d)
	}
	for i, a := range attempts[1:] {
		if len(a.changes) == 0 {
			t.Fatalf("attempt %d was called with no changes", i+2)
		}
		// A retry may carry fewer or more changes, but it starts where
		// the failed one did and holds the same changes.
		for j := range min(len(a.changes), len(first)) {
			if a.changes[j].ID != first[j].ID {
				t.Fatalf("attempt %d, change %d has ID %q; the failed attempt had %q: %s vs %s",
					i+2, j, a.changes[j].ID, first[j].ID, describe(a.changes), describe(first))
			}
		}
	}

	// The failures did not move the checkpoint: restarted with a working
	// handler, the consumer starts from the same first change.
	working := startConsumer(t, feed, "retry", nil)
	working.waitFor(t, "all three changes", atLeast(pk, 3))
	working.stop(t)
	got := working.handled()
	if got[0].ID != first[0].ID {
		t.Fatalf("after failed attempts, the restarted consumer starts at %q, want %q", got[0].ID, first[0].ID)
	}
	wantChanges(t, got, k, &versions[0], &versions[1], &versions[2])
	for _, a := range attempts {
		for _, ch := range a.changes {
			if ch.Key != k {
				continue
			}
			same := ofKey(got, k)
			if ch.New == nil || ch.New.Version < 1 || int(ch.New.Version) > len(same) || same[ch.New.Version-1].ID != ch.ID {
				t.Fatalf("change %s was redelivered under another ID: %s", describe([]store.Change{ch}), describe(got))
			}
		}
	}

	// A handler that fails twice then succeeds is retried within one
	// Consume, from the same change.
	flaky := startConsumer(t, feed, "flaky", func(n int, _ []store.Change) error {
		if n < 2 {
			return errDown
		}
		return nil
	})
	flaky.waitFor(t, "all three changes after two failures", atLeast(pk, 3))
	flaky.stop(t)
	calls := flaky.snapshot()
	var firstOK []store.Change
	for _, cl := range calls {
		if cl.err == nil {
			firstOK = cl.changes
			break
		}
	}
	if calls[0].changes[0].ID != first[0].ID || firstOK[0].ID != first[0].ID {
		t.Fatalf("flaky consumer: first attempt starts at %q, first success at %q; want both at %q",
			calls[0].changes[0].ID, firstOK[0].ID, first[0].ID)
	}
	wantChanges(t, flaky.handled(), k, &versions[0], &versions[1], &versions[2])

	// After success the consumer moves on to new changes.
	v4 := store.Item{PK: pk, SK: "one", Version: 4, Data: []byte("v4")}
	mustPut(t, s, v4, store.IfVersion(3))
	again := startConsumer(t, feed, "retry", nil)
	again.waitFor(t, "the change after the checkpoint", func(handled []store.Change) error {
		for _, ch := range handled {
			if ch.New != nil && ch.New.Version == 4 {
				return nil
			}
		}
		return errors.New("version 4 not delivered")
	})
	again.stop(t)
}

func testFeedIndependentConsumers(t *testing.T, open opener) {
	s, feed := openBoth(t, open)
	pk := "feed-two"
	put := func(i int, v int64) store.Item {
		it := store.Item{PK: fmt.Sprintf("%s/%d", pk, i), SK: "s", Version: v, Data: fmt.Appendf(nil, "%d-%d", i, v)}
		cond := store.IfVersion(v - 1)
		if v == 1 {
			cond = store.IfAbsent
		}
		mustPut(t, s, it, cond)
		return it
	}
	for i := range 4 {
		put(i, 1)
	}
	// Alpha consumes everything first; beta, starting later, still gets
	// everything: checkpoints are per consumer.
	alpha := startConsumer(t, feed, "alpha", nil)
	alpha.waitFor(t, "first writes", atLeast(pk, 4))
	alpha.stop(t)
	beta := startConsumer(t, feed, "beta", nil)
	beta.waitFor(t, "first writes", atLeast(pk, 4))

	// Both running together each get every new change.
	alpha2 := startConsumer(t, feed, "alpha", nil)
	for i := range 4 {
		put(i, 2)
	}
	alpha2.waitFor(t, "second writes", func(handled []store.Change) error {
		return atLeast(pk, 4)(newVersion(handled, 2))
	})
	beta.waitFor(t, "every write", atLeast(pk, 8))
	alpha2.stop(t)
	beta.stop(t)

	// The same change carries the same ID whoever receives it.
	alphaIDs := map[string]bool{}
	for _, ch := range append(alpha.handled(), alpha2.handled()...) {
		alphaIDs[ch.ID] = true
	}
	betaChanges := ofPK(beta.handled(), pk)
	for _, ch := range betaChanges {
		if !alphaIDs[ch.ID] {
			t.Fatalf("beta got change %s, which alpha never saw under that ID", describe([]store.Change{ch}))
		}
	}
	if len(betaChanges) != 8 {
		t.Fatalf("beta got %d changes, want 8: %s", len(betaChanges), describe(betaChanges))
	}
}

// newVersion keeps the changes that write version v.
func newVersion(changes []store.Change, v int64) []store.Change {
	var out []store.Change
	for _, ch := range changes {
		if ch.New != nil && ch.New.Version == v {
			out = append(out, ch)
		}
	}
	return out
}

func testFeedRestart(t *testing.T, open opener) {
	s, feed := openBoth(t, open)
	pk := "feed-restart"
	const keys = 5
	write := func(v int64) {
		for i := range keys {
			it := store.Item{PK: fmt.Sprintf("%s/%d", pk, i), SK: "s", Version: v}
			cond := store.IfVersion(v - 1)
			if v == 1 {
				cond = store.IfAbsent
			}
			mustPut(t, s, it, cond)
		}
	}
	seesVersion := func(v int64) func([]store.Change) error {
		return func(handled []store.Change) error {
			return atLeast(pk, keys)(newVersion(handled, v))
		}
	}

	write(1)
	run1 := startConsumer(t, feed, "restarted", nil)
	run1.waitFor(t, "version 1", seesVersion(1))
	run1.stop(t)

	// Written while the consumer is down: the next run must deliver them.
	write(2)
	run2 := startConsumer(t, feed, "restarted", nil)
	run2.waitFor(t, "version 2, written while stopped", seesVersion(2))
	write(3)
	run2.waitFor(t, "version 3, written while running", seesVersion(3))
	run2.stop(t)

	write(4)
	run3 := startConsumer(t, feed, "restarted", nil)
	run3.waitFor(t, "version 4, written while stopped", seesVersion(4))
	run3.stop(t)

	// Across the runs, each key's changes arrived in commit order.
	all := uniqueByID(append(append(run1.handled(), run2.handled()...), run3.handled()...))
	for i := range keys {
		k := store.Key{PK: fmt.Sprintf("%s/%d", pk, i), SK: "s"}
		var states []*store.Item
		for v := int64(1); v <= 4; v++ {
			states = append(states, &store.Item{PK: k.PK, SK: k.SK, Version: v})
		}
		wantChanges(t, all, k, states...)
	}
}

func testFeedPerKeyOrder(t *testing.T, open opener) {
	s, feed := openBoth(t, open)
	pk := "feed-order"
	const keys, versions = 5, 10
	c := startConsumer(t, feed, "order", nil)

	// Each key is written by its own goroutine, so keys interleave in the
	// feed while each key's own writes are ordered.
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			for v := int64(1); v <= versions; v++ {
				it := store.Item{PK: fmt.Sprintf("%s/%d", pk, i), SK: "s", Version: v, Data: fmt.Appendf(nil, "%d", v)}
				cond := store.IfVersion(v - 1)
				if v == 1 {
					cond = store.IfAbsent
				}
				var err error
				if v%3 == 0 {
					// Some writes go through a transaction.
					err = s.Transact(t.Context(), store.Op{Put: &it, Cond: cond})
				} else {
					err = s.Put(t.Context(), it, cond)
				}
				if err != nil {
					t.Errorf("key %d version %d: %v", i, v, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	c.waitFor(t, "every write", atLeast(pk, keys*versions))
	c.stop(t)
	got := c.handled()
	for i := range keys {
		k := store.Key{PK: fmt.Sprintf("%s/%d", pk, i), SK: "s"}
		var states []*store.Item
		for v := int64(1); v <= versions; v++ {
			states = append(states, &store.Item{PK: k.PK, SK: k.SK, Version: v, Data: fmt.Appendf(nil, "%d", v)})
		}
		wantChanges(t, got, k, states...)
	}
}

func testFeedCancel(t *testing.T, open opener) {
	s, feed := openBoth(t, open)
	consume := func(ctx context.Context, name string, handle store.ChangeHandler) <-chan error {
		done := make(chan error, 1)
		go func() { done <- feed.Consume(ctx, name, handle) }()
		return done
	}
	wantReturn := func(what string, done <-chan error, want error) {
		t.Helper()
		select {
		case err := <-done:
			if !errors.Is(err, want) {
				t.Fatalf("%s: Consume returned %v, want %v", what, err, want)
			}
		case <-time.After(stopWait):
			t.Fatalf("%s: Consume did not return within %v", what, stopWait)
		}
	}
	ok := func(context.Context, []store.Change) error { return nil }

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	wantReturn("already cancelled", consume(cancelled, "c1", ok), context.Canceled)

	idle, cancelIdle := context.WithCancel(context.Background())
	done := consume(idle, "c2", ok)
	cancelIdle()
	wantReturn("cancelled while idle", done, context.Canceled)

	expiring, cancelExpiring := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancelExpiring()
	wantReturn("deadline passed", consume(expiring, "c3", ok), context.DeadlineExceeded)

	// Cancelled while the handler runs: the handler sees the cancellation
	// through its context.
	mustPut(t, s, store.Item{PK: "feed-cancel", SK: "s", Version: 1}, store.IfAbsent)
	busy, cancelBusy := context.WithCancel(context.Background())
	defer cancelBusy()
	entered := make(chan struct{}, 1)
	done = consume(busy, "c4", func(ctx context.Context, _ []store.Change) error {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-ctx.Done()
		return ctx.Err()
	})
	select {
	case <-entered:
	case <-time.After(feedWait):
		t.Fatalf("the handler was not called within %v", feedWait)
	}
	cancelBusy()
	wantReturn("cancelled in the handler", done, context.Canceled)
}
