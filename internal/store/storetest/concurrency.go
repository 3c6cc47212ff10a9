package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/goodfaith/goodfaith/internal/store"
)

var concurrencyTests = []subtest{
	{"CompareAndSet", testConcurrentCompareAndSet},
	{"CreateIfAbsent", testConcurrentCreate},
	{"DeleteIfVersion", testConcurrentDelete},
}

const racers = 20

// race runs write once per racer, all released together, and returns each
// racer's error.
func race(write func(racer int) error) []error {
	errs := make([]error, racers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			<-start
			errs[i] = write(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// oneWinner asserts exactly one racer succeeded and every other one failed
// its condition, and returns the winner.
func oneWinner(t *testing.T, errs []error) int {
	t.Helper()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("racers %d and %d both succeeded", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, store.ErrConditionFailed):
			t.Fatalf("racer %d: %v; want success or store.ErrConditionFailed", i, err)
		}
	}
	if winner < 0 {
		t.Fatalf("no racer succeeded: %v", errs[0])
	}
	return winner
}

func testConcurrentCompareAndSet(t *testing.T, open opener) {
	s := openStore(t, open)
	k := store.Key{PK: "cas", SK: "counter"}
	mustPut(t, s, store.Item{PK: k.PK, SK: k.SK, Version: 1, Data: []byte("v1")}, store.IfAbsent)
	read := mustGet(t, s, k)
	next := func(i int) store.Item {
		it := read
		it.Version = read.Version + 1
		it.Data = fmt.Appendf(nil, "writer-%d", i)
		return it
	}
	errs := race(func(i int) error { return s.Put(t.Context(), next(i), store.IfVersion(read.Version)) })
	wantItem(t, s, next(oneWinner(t, errs)))
}

func testConcurrentCreate(t *testing.T, open opener) {
	s := openStore(t, open)
	create := func(i int) store.Item {
		return store.Item{PK: "create", SK: "once", Version: 1, Data: fmt.Appendf(nil, "creator-%d", i)}
	}
	errs := race(func(i int) error { return s.Put(t.Context(), create(i), store.IfAbsent) })
	wantItem(t, s, create(oneWinner(t, errs)))
}

func testConcurrentDelete(t *testing.T, open opener) {
	s := openStore(t, open)
	k := store.Key{PK: "delete", SK: "once"}
	mustPut(t, s, store.Item{PK: k.PK, SK: k.SK, Version: 5}, store.IfAbsent)
	errs := race(func(int) error { return s.Delete(t.Context(), k, store.IfVersion(5)) })
	oneWinner(t, errs)
	wantAbsent(t, s, k)
}
