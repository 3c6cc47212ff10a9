package idempotency

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/fault"
	"github.com/goodfaith/goodfaith/internal/store/boltstore"
)

func keeper(t *testing.T) (Keeper, *clock.Fake) {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := clock.NewFake(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC))
	return Keeper{Store: st, Clock: clk, Wait: 50 * time.Millisecond, Poll: time.Millisecond}, clk
}

func counter(status int, n *int) func() (Response, error) {
	return func() (Response, error) {
		*n++
		return Response{Status: status, Body: []byte{byte(*n)}}, nil
	}
}

func TestReplayAndWindow(t *testing.T) {
	k, clk := keeper(t)
	ctx := context.Background()
	runs := 0
	a, err := k.Do(ctx, "caller", "key", "fp", counter(201, &runs))
	if err != nil {
		t.Fatal(err)
	}
	b, err := k.Do(ctx, "caller", "key", "fp", counter(201, &runs))
	if err != nil || runs != 1 || string(a.Body) != string(b.Body) || b.Status != 201 {
		t.Fatalf("replay: runs=%d %v %v", runs, a, b)
	}
	// Another caller with the same key is another request.
	if _, err := k.Do(ctx, "other", "key", "fp", counter(201, &runs)); err != nil || runs != 2 {
		t.Fatalf("other caller: runs=%d %v", runs, err)
	}
	// The same key for another request is refused.
	if _, err := k.Do(ctx, "caller", "key", "other-fp", counter(201, &runs)); !errors.Is(err, fault.ErrInvalid) {
		t.Fatalf("reuse: %v", err)
	}
	// After the window the key is new again.
	clk.Advance(Window + time.Second)
	if _, err := k.Do(ctx, "caller", "key", "other-fp", counter(201, &runs)); err != nil || runs != 3 {
		t.Fatalf("after the window: runs=%d %v", runs, err)
	}
}

func TestServerErrorsAreNotKept(t *testing.T) {
	k, _ := keeper(t)
	runs := 0
	if r, _ := k.Do(context.Background(), "c", "k", "fp", counter(500, &runs)); r.Status != 500 {
		t.Fatalf("status %d", r.Status)
	}
	if r, err := k.Do(context.Background(), "c", "k", "fp", counter(200, &runs)); err != nil || r.Status != 200 || runs != 2 {
		t.Fatalf("retry after a 500: runs=%d %v %v", runs, r, err)
	}
}

func TestPendingLeaseIsTakenOver(t *testing.T) {
	k, clk := keeper(t)
	ctx := context.Background()
	// A request that reserved the key and died: simulate with a pending
	// reservation that is never completed.
	if _, err := k.reserve(ctx, keyFor("c", "k"), record{State: "pending", Fingerprint: "fp", LeaseUntil: clk.Now().Add(k.lease())}, clk.Now()); err != nil {
		t.Fatal(err)
	}
	runs := 0
	if _, err := k.Do(ctx, "c", "k", "fp", counter(200, &runs)); !errors.Is(err, fault.ErrConflict) {
		t.Fatalf("while the lease holds: %v", err)
	}
	clk.Advance(k.lease() + time.Second)
	if r, err := k.Do(ctx, "c", "k", "fp", counter(200, &runs)); err != nil || r.Status != 200 || runs != 1 {
		t.Fatalf("after the lease: runs=%d %v %v", runs, r, err)
	}
}
