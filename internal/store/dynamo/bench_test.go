package dynamo_test

import (
	"fmt"
	"testing"

	"github.com/goodfaith/goodfaith/internal/store"
)

var benchData = []byte(`{"state":"queued","clinic":"cl_1","treatments":["botox","filler"],"us_state":"TX"}`)

// BenchmarkPutIfAbsent measures a conditional create of a new item.
func BenchmarkPutIfAbsent(b *testing.B) {
	s := open(b)
	ctx := b.Context()
	i := 0
	for b.Loop() {
		it := store.Item{PK: fmt.Sprintf("EXAM#%d", i), SK: "META", GSI1PK: "CLINIC#1", GSI1SK: fmt.Sprint(i), Version: 1, Data: benchData}
		if err := s.Put(ctx, it, store.IfAbsent); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkPutIfVersion measures an optimistic update of one item.
func BenchmarkPutIfVersion(b *testing.B) {
	s := open(b)
	ctx := b.Context()
	it := store.Item{PK: "EXAM#1", SK: "META", Version: 1, Data: benchData}
	if err := s.Put(ctx, it, store.IfAbsent); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		prev := it.Version
		it.Version++
		if err := s.Put(ctx, it, store.IfVersion(prev)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkQuery measures one page of 25 items from a 100-item partition,
// on the table and on an index.
func BenchmarkQuery(b *testing.B) {
	s := open(b)
	ctx := b.Context()
	for i := range 100 {
		it := store.Item{PK: "CLINIC#1", SK: fmt.Sprintf("EXAM#%03d", i), GSI1PK: "OWNER#1", GSI1SK: fmt.Sprintf("%03d", i), Version: 1, Data: benchData}
		if err := s.Put(ctx, it, store.IfAbsent); err != nil {
			b.Fatal(err)
		}
	}
	for _, q := range []struct {
		name string
		q    store.Query
	}{
		{"Primary", store.Query{PK: "CLINIC#1", SKPrefix: "EXAM#", Limit: 25}},
		{"GSI1", store.Query{Index: store.ByGSI1, PK: "OWNER#1", Limit: 25, Descending: true}},
	} {
		b.Run(q.name, func(b *testing.B) {
			for b.Loop() {
				page, err := s.Query(ctx, q.q)
				if err != nil {
					b.Fatal(err)
				}
				if len(page.Items) != 25 || page.Cursor == "" {
					b.Fatalf("page of %d items, cursor %q", len(page.Items), page.Cursor)
				}
			}
		})
	}
}
