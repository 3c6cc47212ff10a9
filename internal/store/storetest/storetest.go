package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/goodfaith/goodfaith/internal/store"
)

// opener returns a fresh, empty store and its change feed. It registers any
// cleanup with t.
type opener func(t *testing.T) (store.Store, store.ChangeFeed)

// How long the suite waits for something that is allowed to be late. They
// bound the wait of a failing test; a passing one returns as soon as the
// condition holds.
const (
	// indexWait bounds how long an index query may lag behind a write.
	indexWait = 2 * time.Second
	// feedWait bounds how long a change takes to reach a consumer,
	// including a redelivery after a handler error and the adapter's
	// retry backoff.
	feedWait = 30 * time.Second
	// stopWait bounds how long Consume takes to return once cancelled.
	stopWait  = 10 * time.Second
	pollEvery = 10 * time.Millisecond
)

// Run runs the conformance suite. open is called once by each subtest.
func Run(t *testing.T, open func(t *testing.T) (store.Store, store.ChangeFeed)) {
	t.Helper()
	o := opener(open)
	groups := []struct {
		name  string
		tests []subtest
	}{
		{"Items", itemTests},
		{"Conditions", conditionTests},
		{"Transact", transactTests},
		{"Query", queryTests},
		{"Concurrency", concurrencyTests},
		{"Feed", feedTests},
		{"Scan", scanTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, st := range g.tests {
				t.Run(st.name, func(t *testing.T) { st.run(t, o) })
			}
		})
	}
}

type subtest struct {
	name string
	run  func(t *testing.T, open opener)
}

// openStore opens a store and fails the test if the adapter gave none.
func openStore(t *testing.T, open opener) store.Store {
	t.Helper()
	s, _ := open(t)
	if s == nil {
		t.Fatal("open returned a nil store.Store")
	}
	return s
}

// openBoth opens a store and its change feed.
func openBoth(t *testing.T, open opener) (store.Store, store.ChangeFeed) {
	t.Helper()
	s, f := open(t)
	if s == nil {
		t.Fatal("open returned a nil store.Store")
	}
	if f == nil {
		t.Fatal("open returned a nil store.ChangeFeed; every adapter must provide the change feed")
	}
	return s, f
}

// itemDiff describes how got differs from want, or returns "" when they are
// the same item. Times compare as instants, Data as bytes (nil == empty).
func itemDiff(want, got store.Item) string {
	var d []string
	field := func(name, w, g string) {
		if w != g {
			d = append(d, fmt.Sprintf("%s = %q, want %q", name, g, w))
		}
	}
	field("PK", want.PK, got.PK)
	field("SK", want.SK, got.SK)
	field("GSI1PK", want.GSI1PK, got.GSI1PK)
	field("GSI1SK", want.GSI1SK, got.GSI1SK)
	field("GSI2PK", want.GSI2PK, got.GSI2PK)
	field("GSI2SK", want.GSI2SK, got.GSI2SK)
	field("GSI3PK", want.GSI3PK, got.GSI3PK)
	field("GSI3SK", want.GSI3SK, got.GSI3SK)
	if want.Version != got.Version {
		d = append(d, fmt.Sprintf("Version = %d, want %d", got.Version, want.Version))
	}
	if want.ExpiresAt.IsZero() != got.ExpiresAt.IsZero() || !want.ExpiresAt.Equal(got.ExpiresAt) {
		d = append(d, fmt.Sprintf("ExpiresAt = %v, want %v", got.ExpiresAt, want.ExpiresAt))
	}
	if !bytes.Equal(want.Data, got.Data) {
		d = append(d, fmt.Sprintf("Data = %s, want %s", abbrev(got.Data), abbrev(want.Data)))
	}
	return strings.Join(d, "; ")
}

func abbrev(b []byte) string {
	if len(b) > 40 {
		return fmt.Sprintf("%q… (%d bytes)", b[:40], len(b))
	}
	return fmt.Sprintf("%q", b)
}

// itemsDiff compares two item lists in order.
func itemsDiff(want, got []store.Item) string {
	if len(want) != len(got) {
		return fmt.Sprintf("got %d items %s, want %d items %s", len(got), keysOf(got), len(want), keysOf(want))
	}
	for i := range want {
		if d := itemDiff(want[i], got[i]); d != "" {
			return fmt.Sprintf("item %d: %s (got order %s, want %s)", i, d, keysOf(got), keysOf(want))
		}
	}
	return ""
}

func keysOf(items []store.Item) string {
	ks := make([]string, len(items))
	for i, it := range items {
		ks[i] = it.PK + "|" + it.SK
	}
	return "[" + strings.Join(ks, " ") + "]"
}

func mustPut(t *testing.T, s store.Store, it store.Item, cond store.Condition) {
	t.Helper()
	if err := s.Put(t.Context(), it, cond); err != nil {
		t.Fatalf("Put(%s|%s, %+v): %v", it.PK, it.SK, cond, err)
	}
}

func mustGet(t *testing.T, s store.Store, k store.Key) store.Item {
	t.Helper()
	it, err := s.Get(t.Context(), k)
	if err != nil {
		t.Fatalf("Get(%s|%s): %v", k.PK, k.SK, err)
	}
	return it
}

// wantItem asserts that the stored item under want's key is want.
func wantItem(t *testing.T, s store.Store, want store.Item) {
	t.Helper()
	got := mustGet(t, s, want.Key())
	if d := itemDiff(want, got); d != "" {
		t.Fatalf("Get(%s|%s): %s", want.PK, want.SK, d)
	}
}

// wantAbsent asserts that no item has the key.
func wantAbsent(t *testing.T, s store.Store, k store.Key) {
	t.Helper()
	it, err := s.Get(t.Context(), k)
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get(%s|%s) = %+v, %v; want store.ErrNotFound", k.PK, k.SK, it, err)
	}
}

// wantState asserts each key holds its item, or nothing where the item is nil.
func wantState(t *testing.T, s store.Store, state map[store.Key]*store.Item) {
	t.Helper()
	for k, it := range state {
		if it == nil {
			wantAbsent(t, s, k)
		} else {
			wantItem(t, s, *it)
		}
	}
}

// eventually polls check until it returns nil, failing the test with the
// last error once timeout has passed.
func eventually(t *testing.T, timeout time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still failing after %v: %v", what, timeout, err)
		}
		select {
		case <-t.Context().Done():
			t.Fatalf("%s: test context done: %v", what, err)
		case <-time.After(pollEvery):
		}
	}
}

// queryAll follows a query's cursors to the end and checks the paging rules:
// no page over the limit, no item twice, a cursor on every page but the last,
// and no more pages than the items need plus one (the empty page DynamoDB
// may add).
func queryAll(ctx context.Context, s store.Store, q store.Query) (items []store.Item, pages int, err error) {
	limit := q.Limit
	if limit <= 0 || limit > store.MaxQueryLimit {
		limit = store.MaxQueryLimit
	}
	seen := map[store.Key]bool{}
	for {
		page, err := s.Query(ctx, q)
		if err != nil {
			return nil, pages, fmt.Errorf("Query(%+v) page %d: %w", q, pages+1, err)
		}
		pages++
		if len(page.Items) > limit {
			return nil, pages, fmt.Errorf("page %d holds %d items, limit %d", pages, len(page.Items), limit)
		}
		for _, it := range page.Items {
			if seen[it.Key()] {
				return nil, pages, fmt.Errorf("page %d repeats item %s|%s", pages, it.PK, it.SK)
			}
			seen[it.Key()] = true
		}
		items = append(items, page.Items...)
		if page.Cursor == "" {
			break
		}
		if len(page.Items) == 0 {
			return nil, pages, fmt.Errorf("page %d is empty but carries a cursor", pages)
		}
		q.Cursor = page.Cursor
	}
	if most := (len(items)+limit-1)/limit + 1; pages > most {
		return nil, pages, fmt.Errorf("%d pages for %d items at limit %d, want at most %d", pages, len(items), limit, most)
	}
	return items, pages, nil
}

// queryMatches polls a query until it returns want, in order.
func queryMatches(t *testing.T, s store.Store, q store.Query, want []store.Item) {
	t.Helper()
	eventually(t, indexWait, fmt.Sprintf("Query(index %d, PK %q, prefix %q, at most %q, desc %v)", q.Index, q.PK, q.SKPrefix, q.SKAtMost, q.Descending), func() error {
		got, _, err := queryAll(t.Context(), s, q)
		if err != nil {
			return err
		}
		if d := itemsDiff(want, got); d != "" {
			return errors.New(d)
		}
		return nil
	})
}

func reversed(items []store.Item) []store.Item {
	out := make([]store.Item, len(items))
	for i, it := range items {
		out[len(items)-1-i] = it
	}
	return out
}

// farFuture is an expiry no sweep reaches while the suite runs.
var farFuture = time.Date(2099, time.March, 4, 5, 6, 7, 0, time.UTC)
