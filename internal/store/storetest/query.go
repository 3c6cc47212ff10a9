package storetest

import (
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/goodfaith/goodfaith/internal/store"
)

var queryTests = []subtest{
	{"Primary", testQueryPrimary},
	{"ByGSI1", func(t *testing.T, open opener) { testQueryIndex(t, open, store.ByGSI1) }},
	{"ByGSI2", func(t *testing.T, open opener) { testQueryIndex(t, open, store.ByGSI2) }},
	{"ByGSI3", func(t *testing.T, open opener) { testQueryIndex(t, open, store.ByGSI3) }},
	{"Paging", testQueryPaging},
	{"PagingEqualIndexKeys", testQueryPagingTies},
	{"InvalidCursor", testQueryInvalidCursor},
	{"SparseIndexes", testSparseIndexes},
	{"SortKeyAtMost", testQueryAtMost},
}

// sortKeys are in byte order, which is DynamoDB's order for strings:
// upper case before lower case, and multi-byte UTF-8 after ASCII.
var sortKeys = []string{
	"Order#9", "item#a", "item#b", "order#001", "order#002", "order#010",
	"order#1", "order#2", "order#20", "order#é", "orders", "zeta", "é",
}

func testQueryPrimary(t *testing.T, open opener) {
	s := openStore(t, open)
	var want []store.Item
	// Written out of order so that insertion order cannot pass for SK order.
	for i, j := range []int{7, 2, 11, 0, 9, 4, 12, 1, 6, 10, 3, 8, 5} {
		it := store.Item{PK: "q", SK: sortKeys[j], Version: int64(i + 1), Data: []byte(sortKeys[j])}
		mustPut(t, s, it, store.IfAbsent)
	}
	for _, sk := range sortKeys {
		want = append(want, mustGet(t, s, store.Key{PK: "q", SK: sk}))
	}
	// Neighbouring partitions, one whose PK extends "q", must stay out.
	for _, pk := range []string{"qx", "p", "q#", "Q"} {
		mustPut(t, s, store.Item{PK: pk, SK: "order#001", Version: 1}, store.IfAbsent)
	}

	byPrefix := func(prefix string) []store.Item {
		var out []store.Item
		for _, it := range want {
			if strings.HasPrefix(it.SK, prefix) {
				out = append(out, it)
			}
		}
		return out
	}
	for _, prefix := range []string{"", "order#", "order#0", "order#00", "orders", "item#", "é", "zeta", "nothing", "order#0100"} {
		for _, desc := range []bool{false, true} {
			w := byPrefix(prefix)
			if desc {
				w = reversed(w)
			}
			queryMatches(t, s, store.Query{Index: store.Primary, PK: "q", SKPrefix: prefix, Descending: desc}, w)
		}
	}
	queryMatches(t, s, store.Query{Index: store.Primary, PK: "empty-partition"}, nil)

	// One page holding everything has no cursor.
	page, err := s.Query(t.Context(), store.Query{Index: store.Primary, PK: "q"})
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	if len(page.Items) != len(want) || page.Cursor != "" {
		t.Fatalf("Query without a limit: %d items, cursor %q; want %d items and no cursor", len(page.Items), page.Cursor, len(want))
	}
}

// secondaryIndexes are the port's global secondary indexes.
var secondaryIndexes = []store.Index{store.ByGSI1, store.ByGSI2, store.ByGSI3}

// indexed returns it with its key on index set; the other indexes are left
// as they are.
func indexed(it store.Item, index store.Index, pk, sk string) store.Item {
	switch index {
	case store.ByGSI1:
		it.GSI1PK, it.GSI1SK = pk, sk
	case store.ByGSI2:
		it.GSI2PK, it.GSI2SK = pk, sk
	case store.ByGSI3:
		it.GSI3PK, it.GSI3SK = pk, sk
	default:
		panic(fmt.Sprintf("indexed: index %d is not a secondary index", index))
	}
	return it
}

func testQueryIndex(t *testing.T, open opener, index store.Index) {
	s := openStore(t, open)
	var want []store.Item
	// Items of one index partition live in different table partitions, and
	// the table's sort keys run against the index's, so the index order
	// cannot come from the table.
	for i, j := range []int{7, 2, 11, 0, 9, 4, 12, 1, 6, 10, 3, 8, 5} {
		it := store.Item{
			PK: fmt.Sprintf("member-%02d", i%4), SK: fmt.Sprintf("%02d", 20-i),
			Version: 1, ExpiresAt: farFuture, Data: []byte{byte(i), 0xff},
		}
		// The other indexes get the same partition in the reverse order, to
		// check the indexes stay apart.
		for _, other := range secondaryIndexes {
			if other != index {
				it = indexed(it, other, "owner", sortKeys[len(sortKeys)-1-j])
			}
		}
		it = indexed(it, index, "owner", sortKeys[j])
		mustPut(t, s, it, store.IfAbsent)
		want = append(want, it)
	}
	slices.SortFunc(want, func(a, b store.Item) int { return strings.Compare(indexSK(a, index), indexSK(b, index)) })
	// Neighbouring index partitions and items without an index key.
	for _, gpk := range []string{"ownerx", "owne", "Owner"} {
		mustPut(t, s, indexed(store.Item{PK: "other-" + gpk, SK: "1", Version: 1}, index, gpk, "order#001"), store.IfAbsent)
	}
	mustPut(t, s, store.Item{PK: "unindexed", SK: "1", Version: 1}, store.IfAbsent)

	for _, prefix := range []string{"", "order#", "order#0", "item#", "é", "nothing"} {
		var w []store.Item
		for _, it := range want {
			if strings.HasPrefix(indexSK(it, index), prefix) {
				w = append(w, it)
			}
		}
		queryMatches(t, s, store.Query{Index: index, PK: "owner", SKPrefix: prefix}, w)
		queryMatches(t, s, store.Query{Index: index, PK: "owner", SKPrefix: prefix, Descending: true}, reversed(w))
	}
	queryMatches(t, s, store.Query{Index: index, PK: "no-such-owner"}, nil)
}

func indexSK(it store.Item, index store.Index) string {
	switch index {
	case store.ByGSI1:
		return it.GSI1SK
	case store.ByGSI2:
		return it.GSI2SK
	case store.ByGSI3:
		return it.GSI3SK
	default:
		return it.SK
	}
}

func testQueryPaging(t *testing.T, open opener) {
	s := openStore(t, open)
	const n = 23
	var all []store.Item
	for i := range n {
		// Written in a shuffled order (7 is coprime with 23).
		j := i * 7 % n
		sk := fmt.Sprintf("%s#%03d", []string{"a", "b"}[j%2], j)
		it := store.Item{
			PK: "paged", SK: sk,
			GSI1PK: "paged-gsi1", GSI1SK: sk,
			GSI2PK: "paged-gsi2", GSI2SK: sk,
			GSI3PK: "paged-gsi3", GSI3SK: sk,
			Version: 1, Data: []byte(sk),
		}
		mustPut(t, s, it, store.IfAbsent)
		all = append(all, it)
	}
	slices.SortFunc(all, func(a, b store.Item) int { return strings.Compare(a.SK, b.SK) })

	for _, index := range []store.Index{store.Primary, store.ByGSI1, store.ByGSI2, store.ByGSI3} {
		pk := map[store.Index]string{store.Primary: "paged", store.ByGSI1: "paged-gsi1", store.ByGSI2: "paged-gsi2", store.ByGSI3: "paged-gsi3"}[index]
		// Every item to be visible in the index before paging through it.
		queryMatches(t, s, store.Query{Index: index, PK: pk}, all)
		for _, prefix := range []string{"", "a#", "b#01"} {
			var want []store.Item
			for _, it := range all {
				if strings.HasPrefix(it.SK, prefix) {
					want = append(want, it)
				}
			}
			for _, limit := range []int{1, 4, 5, len(want), len(want) + 1} {
				for _, desc := range []bool{false, true} {
					q := store.Query{Index: index, PK: pk, SKPrefix: prefix, Limit: limit, Descending: desc}
					got, pages, err := queryAll(t.Context(), s, q)
					if err != nil {
						t.Fatalf("index %d, prefix %q, limit %d, desc %v: %v", index, prefix, limit, desc, err)
					}
					w := want
					if desc {
						w = reversed(want)
					}
					if d := itemsDiff(w, got); d != "" {
						t.Fatalf("index %d, prefix %q, limit %d, desc %v, %d pages: %s", index, prefix, limit, desc, pages, d)
					}
				}
			}
		}
	}
}

// Items sharing an index sort key (many exams created in the same second)
// must page without loss or repetition, which needs the cursor to carry the
// table key as well.
func testQueryPagingTies(t *testing.T, open opener) {
	s := openStore(t, open)
	keys := map[store.Key]bool{}
	for i := range 12 {
		it := store.Item{
			PK: fmt.Sprintf("tie-%d", i%3), SK: fmt.Sprintf("%02d", i),
			GSI1PK: "ties", GSI1SK: "same", GSI2PK: "ties", GSI2SK: fmt.Sprintf("s%d", i%2),
			GSI3PK: "ties", GSI3SK: fmt.Sprintf("s%d", i%3),
			Version: 1,
		}
		mustPut(t, s, it, store.IfAbsent)
		keys[it.Key()] = true
	}
	for _, index := range secondaryIndexes {
		eventually(t, indexWait, fmt.Sprintf("index %d sees every item", index), func() error {
			got, _, err := queryAll(t.Context(), s, store.Query{Index: index, PK: "ties"})
			if err != nil {
				return err
			}
			if len(got) != len(keys) {
				return fmt.Errorf("%d items, want %d", len(got), len(keys))
			}
			return nil
		})
		for _, limit := range []int{1, 2, 5} {
			for _, desc := range []bool{false, true} {
				got, _, err := queryAll(t.Context(), s, store.Query{Index: index, PK: "ties", Limit: limit, Descending: desc})
				if err != nil {
					t.Fatalf("index %d, limit %d, desc %v: %v", index, limit, desc, err)
				}
				seen := map[store.Key]bool{}
				for i, it := range got {
					seen[it.Key()] = true
					if i > 0 {
						prev, cur := indexSK(got[i-1], index), indexSK(it, index)
						if (!desc && prev > cur) || (desc && prev < cur) {
							t.Fatalf("index %d, limit %d, desc %v: %q before %q", index, limit, desc, prev, cur)
						}
					}
				}
				if len(got) != len(keys) || len(seen) != len(keys) {
					t.Fatalf("index %d, limit %d, desc %v: %d items (%d distinct), want %d", index, limit, desc, len(got), len(seen), len(keys))
				}
			}
		}
	}
}

func testQueryInvalidCursor(t *testing.T, open opener) {
	s := openStore(t, open)
	for i := range 3 {
		mustPut(t, s, store.Item{
			PK: "cursor", SK: fmt.Sprint(i), GSI1PK: "cursor", GSI1SK: fmt.Sprint(i),
			GSI2PK: "cursor", GSI2SK: fmt.Sprint(i), GSI3PK: "cursor", GSI3SK: fmt.Sprint(i), Version: 1,
		}, store.IfAbsent)
	}
	bogus := []string{
		"not a cursor",
		"%%%",
		"AAAA",
		base64.StdEncoding.EncodeToString([]byte(`{"x":1}`)),
		base64.RawURLEncoding.EncodeToString([]byte(`{"PK":{"S":"cursor"}}`)),
		strings.Repeat("A", 4096),
	}
	for _, index := range []store.Index{store.Primary, store.ByGSI1, store.ByGSI2, store.ByGSI3} {
		for _, c := range bogus {
			page, err := s.Query(t.Context(), store.Query{Index: index, PK: "cursor", Cursor: c, Limit: 1})
			if !errors.Is(err, store.ErrInvalidCursor) {
				t.Errorf("index %d, cursor %.20q: %d items, %v; want store.ErrInvalidCursor", index, c, len(page.Items), err)
			}
		}
	}
}

// testSparseIndexes moves items in and out of each work-queue-like index
// (GSI2, GSI3) while they stay in GSI1.
func testSparseIndexes(t *testing.T, open opener) {
	for _, queue := range []store.Index{store.ByGSI2, store.ByGSI3} {
		t.Run(fmt.Sprintf("GSI%d", queue), func(t *testing.T) { testSparseIndex(t, open, queue) })
	}
}

func testSparseIndex(t *testing.T, open opener, queue store.Index) {
	s := openStore(t, open)
	// The other queue-like index, which none of these items is in.
	other := map[store.Index]store.Index{store.ByGSI2: store.ByGSI3, store.ByGSI3: store.ByGSI2}[queue]
	both := indexed(store.Item{PK: "sparse", SK: "both", GSI1PK: "owner", GSI1SK: "1", Version: 1}, queue, "queue-x", "1")
	onlyGSI1 := store.Item{PK: "sparse", SK: "gsi1", GSI1PK: "owner", GSI1SK: "2", Version: 1}
	onlyQueue := indexed(store.Item{PK: "sparse", SK: "queue", Version: 1}, queue, "queue-x", "2")
	neither := store.Item{PK: "sparse", SK: "neither", Version: 1}
	for _, it := range []store.Item{both, onlyGSI1, onlyQueue, neither} {
		mustPut(t, s, it, store.IfAbsent)
	}
	gsi1 := store.Query{Index: store.ByGSI1, PK: "owner"}
	queueX := store.Query{Index: queue, PK: "queue-x"}
	queueY := store.Query{Index: queue, PK: "queue-y"}
	queryMatches(t, s, gsi1, []store.Item{both, onlyGSI1})
	queryMatches(t, s, queueX, []store.Item{both, onlyQueue})
	queryMatches(t, s, store.Query{Index: other, PK: "queue-x"}, nil)

	// Leaving the queue: the item stays in the other index, updated there.
	dequeued := indexed(both, queue, "", "")
	dequeued.Version = 2
	mustPut(t, s, dequeued, store.IfVersion(1))
	queryMatches(t, s, queueX, []store.Item{onlyQueue})
	queryMatches(t, s, gsi1, []store.Item{dequeued, onlyGSI1})

	// Joining a queue, then moving to another one in a transaction.
	enqueued := indexed(onlyGSI1, queue, "queue-y", "1")
	enqueued.Version = 2
	mustPut(t, s, enqueued, store.IfVersion(1))
	queryMatches(t, s, queueY, []store.Item{enqueued})
	moved := indexed(enqueued, queue, "queue-x", "1")
	moved.Version = 3
	if err := s.Transact(t.Context(), store.Op{Put: &moved, Cond: store.IfVersion(2)}); err != nil {
		t.Fatalf("Transact: %v", err)
	}
	queryMatches(t, s, queueY, nil)
	queryMatches(t, s, queueX, []store.Item{moved, onlyQueue})

	// Changing only the index sort key reorders the item.
	resorted := indexed(onlyQueue, queue, "queue-x", "0")
	resorted.Version = 2
	mustPut(t, s, resorted, store.IfVersion(1))
	queryMatches(t, s, queueX, []store.Item{resorted, moved})

	// Deleting removes the item from every index.
	if err := s.Delete(t.Context(), moved.Key(), store.IfVersion(3)); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	queryMatches(t, s, queueX, []store.Item{resorted})
	queryMatches(t, s, gsi1, []store.Item{dequeued})
	queryMatches(t, s, store.Query{Index: store.Primary, PK: "sparse"}, []store.Item{dequeued, neither, resorted})
}

// testQueryAtMost: SKAtMost keeps the items whose index sort key is at most
// the bound (inclusive, byte order), in either direction and across pages,
// on the table and on every index; it cannot be combined with SKPrefix.
func testQueryAtMost(t *testing.T, open opener) {
	s := openStore(t, open)
	var all []store.Item
	// Written out of order so that insertion order cannot pass for SK order.
	for i, j := range []int{7, 2, 11, 0, 9, 4, 12, 1, 6, 10, 3, 8, 5} {
		sk := sortKeys[j]
		it := store.Item{
			PK: "bounded", SK: sk, Version: int64(i + 1),
			GSI1PK: "bounded", GSI1SK: sk, GSI2PK: "bounded", GSI2SK: sk, GSI3PK: "bounded", GSI3SK: sk,
		}
		mustPut(t, s, it, store.IfAbsent)
		all = append(all, it)
	}
	slices.SortFunc(all, func(a, b store.Item) int { return strings.Compare(a.SK, b.SK) })
	// A neighbouring partition below and above, which the bound must not
	// reach into.
	for _, pk := range []string{"bounde", "boundedx"} {
		mustPut(t, s, store.Item{PK: pk, SK: "a", GSI1PK: pk, GSI1SK: "a", GSI2PK: pk, GSI2SK: "a", GSI3PK: pk, GSI3SK: "a", Version: 1}, store.IfAbsent)
	}
	for _, index := range []store.Index{store.Primary, store.ByGSI1, store.ByGSI2, store.ByGSI3} {
		// Bounds below everything, between keys, on a key (inclusive), on
		// a key's prefix, and above everything.
		for _, atMost := range []string{"A", "item#b", "order#0", "order#002", "order#1~", "é", "\uffff"} {
			var want []store.Item
			for _, it := range all {
				if it.SK <= atMost {
					want = append(want, it)
				}
			}
			for _, limit := range []int{1, 3, 0} {
				for _, desc := range []bool{false, true} {
					w := want
					if desc {
						w = reversed(want)
					}
					q := store.Query{Index: index, PK: "bounded", SKAtMost: atMost, Limit: limit, Descending: desc}
					queryMatches(t, s, q, w)
				}
			}
		}
		page, err := s.Query(t.Context(), store.Query{Index: index, PK: "bounded", SKPrefix: "order#", SKAtMost: "order#2"})
		if err == nil || errors.Is(err, store.ErrInvalidCursor) || len(page.Items) != 0 {
			t.Errorf("index %d: a query with SKPrefix and SKAtMost: %d items, %v; want an error", index, len(page.Items), err)
		}
	}
}
