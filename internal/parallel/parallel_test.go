package parallel_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goodfaith/goodfaith/internal/parallel"
)

// guard bounds a wait that only a broken Each would make endless: it is
// not a timing assertion, the test fails instead of hanging.
const guard = 10 * time.Second

func receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(guard):
		t.Fatalf("%s never happened", what)
		panic("unreachable")
	}
}

// waitFor is receive for a job's goroutine, which may not call t.Fatal:
// the job returns the error instead.
func waitFor(ch <-chan struct{}, what string) error {
	select {
	case <-ch:
		return nil
	case <-time.After(guard):
		return fmt.Errorf("%s never happened", what)
	}
}

func TestEachRunsEveryJobOnce(t *testing.T) {
	const n = 50
	runs := make([]int32, n)
	err := parallel.Each(context.Background(), n, 8, func(_ context.Context, i int) error {
		atomic.AddInt32(&runs[i], 1)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range runs {
		if r != 1 {
			t.Errorf("job %d ran %d times, want 1", i, r)
		}
	}
}

// TestEachHoldsTheLimit: the first limit jobs are all under way before any
// finishes (so they run at once), and no more than limit are ever under way
// (a counter of running jobs, its peak kept).
func TestEachHoldsTheLimit(t *testing.T) {
	const n, limit = 20, 3
	var mu sync.Mutex
	running, peak := 0, 0
	started := make(chan int)
	release := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- parallel.Each(context.Background(), n, limit, func(_ context.Context, i int) error {
			mu.Lock()
			running++
			peak = max(peak, running)
			mu.Unlock()
			started <- i
			<-release
			mu.Lock()
			running--
			mu.Unlock()
			return nil
		})
	}()
	for range limit {
		receive(t, started, "a job among the first limit starting before any finished")
	}
	for range n - limit { // one finishes, one more starts
		release <- struct{}{}
		receive(t, started, "the next job starting once a slot was free")
	}
	for range limit {
		release <- struct{}{}
	}
	if err := receive(t, done, "Each returning"); err != nil {
		t.Fatal(err)
	}
	if peak != limit {
		t.Fatalf("peak of jobs under way = %d, want the limit %d", peak, limit)
	}
}

// TestEachJoinsErrorsInJobOrder: every job runs although two fail, and the
// errors come back in index order even when the later job fails first.
func TestEachJoinsErrorsInJobOrder(t *testing.T) {
	errThree, errSeven := errors.New("three"), errors.New("seven")
	sevenFailed := make(chan struct{})
	var ran atomic.Int32
	err := parallel.Each(context.Background(), 10, 10, func(_ context.Context, i int) error {
		ran.Add(1)
		switch i {
		case 3:
			if err := waitFor(sevenFailed, "job 7 failing"); err != nil {
				return err
			}
			return errThree
		case 7:
			defer close(sevenFailed)
			return errSeven
		}
		return nil
	})
	if !errors.Is(err, errThree) || !errors.Is(err, errSeven) {
		t.Fatalf("err = %v, want both failures", err)
	}
	if err.Error() != "three\nseven" {
		t.Fatalf("err = %q, want the failures in job order", err)
	}
	if ran.Load() != 10 {
		t.Fatalf("%d jobs ran, want all 10", ran.Load())
	}
}

// TestEachStartsNothingAfterCancel: with one slot, the first job cancels
// the context; no other job starts and the cancellation is the error.
func TestEachStartsNothingAfterCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var ran atomic.Int32
	err := parallel.Each(ctx, 5, 1, func(context.Context, int) error {
		ran.Add(1)
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if ran.Load() != 1 {
		t.Fatalf("%d jobs ran, want only the first", ran.Load())
	}
	if err := parallel.Each(ctx, 1, 1, func(context.Context, int) error { t.Error("a job ran on a cancelled context"); return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("single job on a cancelled context: err = %v", err)
	}
}

// TestEachReturnsALoneErrorAsItIs: one failure among many jobs is the
// error itself, not a wrapper, as a sequential loop would have returned it.
func TestEachReturnsALoneErrorAsItIs(t *testing.T) {
	errFive := errors.New("five")
	err := parallel.Each(context.Background(), 8, 4, func(_ context.Context, i int) error {
		if i == 5 {
			return errFive
		}
		return nil
	})
	if err != errFive {
		t.Fatalf("err = %#v, want errFive itself", err)
	}
}

// TestEachRaisesAJobsPanicInTheCaller: the panic reaches the caller (whose
// recovery turns it into a 500) instead of ending the process, and only
// after the other jobs have finished.
func TestEachRaisesAJobsPanicInTheCaller(t *testing.T) {
	var ran atomic.Int32
	defer func() {
		if p := recover(); p != "job 2 broke" {
			t.Fatalf("recovered %v, want job 2's panic", p)
		}
		if ran.Load() != 4 {
			t.Fatalf("%d jobs ran before the panic was raised, want all 4", ran.Load())
		}
	}()
	_ = parallel.Each(context.Background(), 4, 4, func(_ context.Context, i int) error {
		defer ran.Add(1)
		if i == 2 {
			panic("job 2 broke")
		}
		return nil
	})
	t.Fatal("Each returned although a job panicked")
}

func TestEachOfNothing(t *testing.T) {
	if err := parallel.Each(context.Background(), 0, 8, func(context.Context, int) error { t.Error("a job ran"); return nil }); err != nil {
		t.Fatal(err)
	}
}

// TestDoRunsEveryJobAtOnce: each job waits until all three have started,
// which only happens if they run at the same time.
func TestDoRunsEveryJobAtOnce(t *testing.T) {
	var all sync.WaitGroup
	all.Add(3)
	allStarted := make(chan struct{})
	go func() { all.Wait(); close(allStarted) }()
	errTwo := errors.New("two")
	job := func(err error) func(context.Context) error {
		return func(context.Context) error {
			all.Done()
			if err := waitFor(allStarted, "all three jobs started"); err != nil {
				return err
			}
			return err
		}
	}
	err := parallel.Do(context.Background(), job(nil), job(errTwo), job(nil))
	if err != errTwo {
		t.Fatalf("err = %v, want the second job's alone", err)
	}
}
