package boltstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/goodfaith/goodfaith/internal/store"
)

// Concurrent writers committed in groups behave as if each had committed
// alone: of many creates of one key exactly one wins and the rest are
// refused without effect; a version-checked counter loses no increment;
// every distinct write is there; one change per write reaches the feed.
func TestGroupCommitKeepsEachWriteSeparate(t *testing.T) {
	s := openTemp(t, WithSweepInterval(0))
	ctx := context.Background()
	const n = 64
	var wins, refused atomic.Int64
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(3)
		go func() {
			defer wg.Done()
			err := s.Put(ctx, store.Item{PK: "same", SK: "one", Version: 1, Data: []byte(fmt.Sprint(i))}, store.IfAbsent)
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, store.ErrConditionFailed):
				refused.Add(1)
			default:
				t.Error(err)
			}
		}()
		go func() {
			defer wg.Done()
			if err := s.Put(ctx, store.Item{PK: "distinct", SK: fmt.Sprintf("%03d", i), Version: 1, Data: []byte("x")}, store.IfAbsent); err != nil {
				t.Error(err)
			}
		}()
		go func() {
			defer wg.Done()
			for {
				cur, err := s.Get(ctx, store.Key{PK: "counter", SK: "c"})
				if errors.Is(err, store.ErrNotFound) {
					if err := s.Put(ctx, store.Item{PK: "counter", SK: "c", Version: 1, Data: []byte("1")}, store.IfAbsent); err == nil {
						return
					}
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				next := cur
				next.Version++
				if err := s.Put(ctx, next, store.IfVersion(cur.Version)); err == nil {
					return
				} else if !errors.Is(err, store.ErrConditionFailed) {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 || refused.Load() != n-1 {
		t.Fatalf("creates of one key: %d won, %d refused; want 1 and %d", wins.Load(), refused.Load(), n-1)
	}
	c, err := s.Get(ctx, store.Key{PK: "counter", SK: "c"})
	if err != nil || c.Version != n {
		t.Fatalf("counter version %d (%v), want %d: an increment was lost or doubled", c.Version, err, n)
	}
	page, err := s.Query(ctx, store.Query{PK: "distinct", Limit: 1000})
	if err != nil || len(page.Items) != n {
		t.Fatalf("%d distinct items (%v), want %d", len(page.Items), err, n)
	}
}

// A write that panics inside a group does not take the group's other
// writes down with it; the panic is its caller's.
func TestGroupCommitIsolatesAFailingWrite(t *testing.T) {
	s := openTemp(t, WithSweepInterval(0))
	var wg sync.WaitGroup
	var panicked atomic.Int64
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%8 == 0 {
				defer func() {
					if recover() != nil {
						panicked.Add(1)
					}
				}()
				s.update(func(w *writer) error { panic("bad write") })
				return
			}
			if err := s.Put(context.Background(), store.Item{PK: "ok", SK: fmt.Sprintf("%02d", i), Version: 1, Data: []byte("x")}, store.IfAbsent); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if panicked.Load() != 4 {
		t.Fatalf("%d panics reached their callers, want 4", panicked.Load())
	}
	page, err := s.Query(context.Background(), store.Query{PK: "ok", Limit: 100})
	if err != nil || len(page.Items) != 28 {
		t.Fatalf("%d items (%v), want 28", len(page.Items), err)
	}
}

// BenchmarkPutParallel is concurrent writers with fsync on: the case group
// commit is for (compare with BenchmarkPut/fsync=true, one writer).
func BenchmarkPutParallel(b *testing.B) {
	s := openTemp(b, WithSweepInterval(0))
	ctx := context.Background()
	var i atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := i.Add(1)
			if err := s.Put(ctx, store.Item{PK: fmt.Sprintf("p#%d", n%50), SK: fmt.Sprint(n), Version: 1, Data: make([]byte, 512)}, store.IfAbsent); err != nil {
				b.Fatal(err)
			}
		}
	})
}
