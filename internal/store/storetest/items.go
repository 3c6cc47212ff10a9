package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/goodfaith/goodfaith/internal/store"
)

var itemTests = []subtest{
	{"GetMissing", testGetMissing},
	{"RoundTrip", testRoundTrip},
	{"PutReplacesWholeItem", testPutReplaces},
	{"ReturnedItemIsACopy", testReturnedCopy},
	{"RejectsEmptyKey", testRejectsEmptyKey},
}

func testGetMissing(t *testing.T, open opener) {
	s := openStore(t, open)
	wantAbsent(t, s, store.Key{PK: "missing", SK: "nothing"})

	// A neighbour in the same partition, or with a key that extends the
	// asked one, must not answer for it.
	mustPut(t, s, store.Item{PK: "p", SK: "ab", Version: 1}, store.None)
	mustPut(t, s, store.Item{PK: "pa", SK: "b", Version: 1}, store.None)
	wantAbsent(t, s, store.Key{PK: "p", SK: "a"})
	wantAbsent(t, s, store.Key{PK: "p", SK: "abc"})
	wantAbsent(t, s, store.Key{PK: "pab", SK: "x"})

	if err := s.Delete(t.Context(), store.Key{PK: "p", SK: "ab"}, store.None); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantAbsent(t, s, store.Key{PK: "p", SK: "ab"})
	wantItem(t, s, store.Item{PK: "pa", SK: "b", Version: 1})
}

// allBytes is Data that is not UTF-8 and holds every byte value, NUL included.
func allBytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(255 - i%256)
	}
	return b
}

func testRoundTrip(t *testing.T, open opener) {
	s := openStore(t, open)
	items := []store.Item{
		{
			PK: "clinic#c1/exam", SK: "exam#2025-01-02T03:04:05Z#é",
			GSI1PK: "clinic#c1", GSI1SK: "created#2025-01-02",
			GSI2PK: "queue#TX", GSI2SK: "2025-01-02T03:04:05Z",
			GSI3PK: "SLA", GSI3SK: "2025-01-02T04:04:05Z#é",
			Version: 42,
			// In another zone, to check the instant survives, not the
			// representation.
			ExpiresAt: time.Date(2031, time.May, 6, 7, 8, 9, 0, time.FixedZone("UTC+5", 5*3600)),
			Data:      []byte{0xff, 0xfe, 0x00, 0x80, 'x', 0xc3},
		},
		// The smallest item: no index keys, no expiry, no data.
		{PK: "minimal", SK: "m", Version: 1},
		// Only the second index, and a version far past int32.
		{PK: "only-gsi2", SK: "s", GSI2PK: "q", GSI2SK: "1", Version: 1 << 40, Data: []byte(`{"json":true}`)},
		// Only the third index.
		{PK: "only-gsi3", SK: "s", GSI3PK: "due", GSI3SK: "2", Version: 3, Data: []byte("3")},
		// Data near the DynamoDB item size limit's order of magnitude.
		{PK: "big", SK: "b", Version: 7, ExpiresAt: farFuture, Data: allBytes(64 << 10)},
	}
	for _, it := range items {
		mustPut(t, s, it, store.IfAbsent)
	}
	for _, it := range items {
		wantItem(t, s, it)
	}
}

func testPutReplaces(t *testing.T, open opener) {
	s := openStore(t, open)
	full := store.Item{
		PK: "r", SK: "1",
		GSI1PK: "g1", GSI1SK: "a", GSI2PK: "g2", GSI2SK: "b", GSI3PK: "g3", GSI3SK: "c",
		Version: 1, ExpiresAt: farFuture, Data: []byte("first"),
	}
	mustPut(t, s, full, store.IfAbsent)
	// A later Put carries no index keys, expiry or data: the stored item
	// must lose them rather than keep the old values.
	bare := store.Item{PK: "r", SK: "1", Version: 2}
	mustPut(t, s, bare, store.IfVersion(1))
	wantItem(t, s, bare)

	mustPut(t, s, full, store.None)
	wantItem(t, s, full)

	// The store does not interpret versions: a write keeping the version
	// still replaces the item.
	sameVersion := full
	sameVersion.Data = []byte("second")
	mustPut(t, s, sameVersion, store.IfVersion(1))
	wantItem(t, s, sameVersion)
}

func testReturnedCopy(t *testing.T, open opener) {
	s := openStore(t, open)
	data := []byte("original")
	mustPut(t, s, store.Item{PK: "c", SK: "1", Version: 1, Data: data}, store.None)
	// The store must not keep the caller's slice...
	copy(data, "mutated!")
	got := mustGet(t, s, store.Key{PK: "c", SK: "1"})
	if string(got.Data) != "original" {
		t.Fatalf("after the caller changed its Data slice, Get returns %q", got.Data)
	}
	// ...nor hand out its own.
	copy(got.Data, "MUTATED!")
	again := mustGet(t, s, store.Key{PK: "c", SK: "1"})
	if string(again.Data) != "original" {
		t.Fatalf("after the caller changed a returned Data slice, Get returns %q", again.Data)
	}
	page, err := s.Query(t.Context(), store.Query{Index: store.Primary, PK: "c"})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("Query = %+v, %v", page, err)
	}
	copy(page.Items[0].Data, "QUERIED!")
	again = mustGet(t, s, store.Key{PK: "c", SK: "1"})
	if string(again.Data) != "original" {
		t.Fatalf("after the caller changed a queried Data slice, Get returns %q", again.Data)
	}
}

// DynamoDB refuses empty key attributes; an adapter that accepted them would
// let code pass locally that fails in production.
func testRejectsEmptyKey(t *testing.T, open opener) {
	s := openStore(t, open)
	for _, k := range []store.Key{{PK: "", SK: "s"}, {PK: "p", SK: ""}} {
		err := s.Put(t.Context(), store.Item{PK: k.PK, SK: k.SK, Version: 1}, store.None)
		if err == nil {
			t.Errorf("Put with key %q|%q succeeded; want an error", k.PK, k.SK)
		}
		if errors.Is(err, store.ErrConditionFailed) {
			t.Errorf("Put with key %q|%q: %v; an invalid key is not a failed condition", k.PK, k.SK, err)
		}
	}
	// Nor does DynamoDB take an empty index sort key; an index partition
	// key without its sort key is refused rather than silently unindexed.
	for _, it := range []store.Item{
		{PK: "p", SK: "gsi1", GSI1PK: "g", Version: 1},
		{PK: "p", SK: "gsi2", GSI2PK: "g", Version: 1},
		{PK: "p", SK: "gsi3", GSI3PK: "g", Version: 1},
	} {
		if err := s.Put(t.Context(), it, store.None); err == nil {
			t.Errorf("Put with an index partition key but no index sort key succeeded; want an error")
		}
		wantAbsent(t, s, it.Key())
	}
	err := s.Transact(t.Context(), store.Op{Put: &store.Item{PK: "ok", SK: "1", Version: 1}}, store.Op{Put: &store.Item{PK: "", SK: "x", Version: 1}})
	if err == nil {
		t.Error("Transact with an empty key succeeded; want an error")
	}
	wantAbsent(t, s, store.Key{PK: "ok", SK: "1"})
}
