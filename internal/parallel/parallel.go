package parallel

import (
	"context"
	"errors"
	"sync"
)

// Each calls job(ctx, i) for every i in [0, n), at most limit at once
// (limit < 1 counts as 1), and waits for all the calls it started. It
// returns their errors joined in index order (a lone error as it is). One
// job's failure does not stop the others; a cancelled ctx stops jobs not
// yet started, and its error is added once for them (jobs under way that
// see it return it too). A job's panic is raised
// again in the caller once every job has returned, where the caller's own
// recovery (the HTTP handlers' 500) sees it as if the job had run inline.
// Jobs that write results do so into their own index of a slice the caller
// made, so they need no lock.
func Each(ctx context.Context, n, limit int, job func(ctx context.Context, i int) error) error {
	if n == 1 { // nothing to overlap: spare the goroutine
		if err := ctx.Err(); err != nil {
			return err
		}
		return job(ctx, 0)
	}
	limit = max(limit, 1)
	errs := make([]error, n)
	var stopped error // ctx's error, when it ended before every job started
	var p panicked
	slots := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i := range n {
		if !acquire(ctx, slots) {
			stopped = ctx.Err()
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			defer p.catch()
			errs[i] = job(ctx, i)
		}()
	}
	wg.Wait()
	p.raise()
	return join(append(errs, stopped))
}

// panicked keeps the first panic of a job for the caller.
type panicked struct {
	mu    sync.Mutex
	set   bool
	value any
}

func (p *panicked) catch() {
	if v := recover(); v != nil {
		p.mu.Lock()
		defer p.mu.Unlock()
		if !p.set {
			p.set, p.value = true, v
		}
	}
}

func (p *panicked) raise() {
	if p.set {
		panic(p.value)
	}
}

// join joins errs in order; a lone error comes back as it is, so a caller
// sees the very error (and message) a sequential call would have returned.
func join(errs []error) error {
	var failed []error
	for _, err := range errs {
		if err != nil {
			failed = append(failed, err)
		}
	}
	if len(failed) == 1 {
		return failed[0]
	}
	return errors.Join(failed...)
}

// Do runs every job at once and waits for all of them; it returns their
// errors joined in the order of jobs.
func Do(ctx context.Context, jobs ...func(ctx context.Context) error) error {
	return Each(ctx, len(jobs), len(jobs), func(ctx context.Context, i int) error { return jobs[i](ctx) })
}

// acquire takes a slot, unless ctx ends first. ctx is checked again once
// the slot is taken: when a slot frees and ctx ends at the same moment,
// select may pick either, and a cancelled ctx must not start another job.
func acquire(ctx context.Context, slots chan struct{}) bool {
	select {
	case slots <- struct{}{}:
	case <-ctx.Done():
		return false
	}
	if ctx.Err() != nil {
		<-slots
		return false
	}
	return true
}
