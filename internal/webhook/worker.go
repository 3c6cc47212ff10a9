package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/goodfaith/goodfaith/internal/store"
)

// Backoff is the retry schedule: after the n-th failed attempt of a window
// the next comes after a delay drawn uniformly from [d/2, d], where
// d = min(Base·2^(n-1), Max) ("equal jitter": retries of many deliveries
// spread out, yet none comes sooner than half the nominal delay). A
// delivery whose next attempt would fall more than Window after its window
// began is dead-lettered instead.
type Backoff struct {
	Base   time.Duration
	Max    time.Duration
	Window time.Duration
}

// DefaultBackoff retries for a day: 30s, 1m, 2m, … capped at an hour
// (about 30 attempts).
var DefaultBackoff = Backoff{Base: 30 * time.Second, Max: time.Hour, Window: 24 * time.Hour}

// Nominal is d after the n-th failure (n ≥ 1).
func (b Backoff) Nominal(n int) time.Duration {
	d := b.Base
	for i := 1; i < n && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}

// Delay is the jittered delay after the n-th failure; r is uniform in [0, 1).
func (b Backoff) Delay(n int, r float64) time.Duration {
	d := b.Nominal(n)
	return d/2 + time.Duration(r*float64(d/2))
}

// Headers of a delivery besides the signature.
const (
	EventIDHeader   = "Goodfaith-Event-Id"
	EventTypeHeader = "Goodfaith-Event-Type"
	AttemptHeader   = "Goodfaith-Delivery-Attempt"
)

// Worker sends due deliveries.
type Worker struct {
	Queue     Queue
	Endpoints Endpoints
	// Client sends the requests; nil: NewClient(Endpoints.AllowLoopback).
	Client  *http.Client
	Backoff Backoff       // zero: DefaultBackoff
	Timeout time.Duration // per attempt, real time; default 10s
	// Concurrency bounds the deliveries in flight, so one slow receiver
	// holds one slot, not the queue (default 8); Batch bounds the
	// deliveries taken per round (default 100).
	Concurrency int
	Batch       int
	// Jitter returns uniform values in [0, 1); nil: math/rand/v2.
	Jitter func() float64
	Log    *slog.Logger

	once sync.Once
}

func (w *Worker) init() {
	w.once.Do(func() {
		if w.Client == nil {
			w.Client = NewClient(w.Endpoints.AllowLoopback)
		}
		if w.Backoff == (Backoff{}) {
			w.Backoff = DefaultBackoff
		}
		if w.Timeout == 0 {
			w.Timeout = 10 * time.Second
		}
		if w.Concurrency == 0 {
			w.Concurrency = 8
		}
		if w.Batch == 0 {
			w.Batch = 100
		}
		if w.Jitter == nil {
			w.Jitter = rand.Float64
		}
		if w.Log == nil {
			w.Log = slog.New(slog.DiscardHandler)
		}
	})
}

var errNotPublic = errors.New("webhook: refusing to connect to a non-public address")

// NewClient returns the HTTP client of deliveries: it connects only to
// public addresses (loopback too when allowLoopback), checked on the
// address actually dialled so that DNS cannot point it inward, uses no
// proxy and follows no redirects.
func NewClient(allowLoopback bool) *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, Control: func(_, address string, _ syscall.RawConn) error {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return err
		}
		a, err := netip.ParseAddr(host)
		if err != nil {
			return err
		}
		if PublicAddr(a) || allowLoopback && a.Unmap().IsLoopback() {
			return nil
		}
		return errNotPublic
	}}
	return &http.Client{
		Transport: &http.Transport{
			Proxy: nil, DialContext: dialer.DialContext, TLSHandshakeTimeout: 10 * time.Second,
			MaxIdleConns: 100, MaxIdleConnsPerHost: 4, IdleConnTimeout: 90 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// RunOnce attempts every delivery due now (up to Batch) and returns how many
// it attempted.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	w.init()
	now := w.Queue.Clock.Now().UTC()
	keys, err := w.Queue.due(ctx, now, w.Batch)
	if err != nil {
		return 0, err
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		n     int
		errs  []error
		slots = make(chan struct{}, w.Concurrency)
	)
	for _, k := range keys {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			tried, err := w.work(ctx, k, now)
			mu.Lock()
			defer mu.Unlock()
			if tried {
				n++
			}
			if err != nil {
				errs = append(errs, err)
			}
		})
	}
	wg.Wait()
	return n, errors.Join(errs...)
}

// Run works the queue until ctx ends: at once when woken, else every
// interval, draining what is due each time.
func (w *Worker) Run(ctx context.Context, interval time.Duration, wake <-chan struct{}) {
	w.init()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for ctx.Err() == nil {
			n, err := w.RunOnce(ctx)
			if err != nil && ctx.Err() == nil {
				w.Log.ErrorContext(ctx, "webhook worker", "error", err.Error())
				break
			}
			if n < w.Batch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-wake:
		}
	}
}

// work takes one delivery under a lease, sends it and records the outcome.
// It reports whether it sent anything.
func (w *Worker) work(ctx context.Context, k store.Key, now time.Time) (bool, error) {
	it, err := w.Queue.Store.Get(ctx, k)
	if err != nil {
		return false, err
	}
	d, err := decodeDelivery(it)
	if err != nil {
		return false, err
	}
	if d.Status != Pending || d.NextAttemptAt.After(now) {
		return false, nil // the index lagged, or another worker holds it
	}
	// The lease: while the attempt runs the delivery is due only when the
	// lease ends, so a crashed worker's delivery is retried then.
	leased := d
	until := now.Add(w.Timeout + time.Minute)
	leased.NextAttemptAt, leased.LeaseUntil = until, &until
	if err := w.Queue.Store.Put(ctx, leased.item(d.version+1), store.IfVersion(d.version)); err != nil {
		if errors.Is(err, store.ErrConditionFailed) {
			return false, nil // another worker took it
		}
		return false, err
	}
	leased.version = d.version + 1

	a := w.send(ctx, d)
	done := leased
	done.LeaseUntil = nil
	done.Attempts++
	done.TotalAttempts++
	done.Log = append(done.Log, a)
	if len(done.Log) > maxAttemptLog {
		done.Log = done.Log[len(done.Log)-maxAttemptLog:]
	}
	at := w.Queue.Clock.Now().UTC()
	switch next := at.Add(w.Backoff.Delay(done.Attempts, w.Jitter())); {
	case a.Status >= 200 && a.Status < 300:
		done.Status, done.DeliveredAt = Delivered, &at
	case next.After(done.WindowStart.Add(w.Backoff.Window)):
		done.Status, done.DeadAt = Dead, &at
	default:
		done.NextAttemptAt = next
	}
	// A fresh context: the attempt happened, and losing its record would
	// only send it again after the lease.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := w.Queue.Store.Put(rctx, done.item(leased.version+1), store.IfVersion(leased.version)); err != nil {
		return true, fmt.Errorf("webhook: record attempt of %s: %w", d.EventID, err)
	}
	w.Log.InfoContext(ctx, "webhook attempt", "event", d.EventID, "type", d.Type, "clinic", d.ClinicID, "status", a.Status, "error", a.Error, "result", done.Status)
	return true, nil
}

// send makes one attempt. Errors are described without the receiver's
// answer, which is not ours to keep.
func (w *Worker) send(ctx context.Context, d Delivery) Attempt {
	start := time.Now()
	a := Attempt{At: w.Queue.Clock.Now().UTC()}
	ep, err := w.Endpoints.Get(ctx, d.ClinicID)
	if err != nil {
		a.Error = "no webhook URL is set"
		a.DurationMS = time.Since(start).Milliseconds()
		return a
	}
	ctx, cancel := context.WithTimeout(ctx, w.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(d.Body))
	if err != nil {
		a.Error = "the webhook URL cannot be requested"
		a.DurationMS = time.Since(start).Milliseconds()
		return a
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Goodfaith-Webhooks/1")
	req.Header.Set(SignatureHeader, Sign(ep.Secret, w.Queue.Clock.Now(), d.Body))
	req.Header.Set(EventIDHeader, d.EventID)
	req.Header.Set(EventTypeHeader, d.Type)
	req.Header.Set(AttemptHeader, strconv.Itoa(d.TotalAttempts+1))
	resp, err := w.Client.Do(req)
	if err != nil {
		a.Error = describe(err)
		a.DurationMS = time.Since(start).Milliseconds()
		return a
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	a.Status = resp.StatusCode
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		a.Error = "the receiver answered " + strconv.Itoa(resp.StatusCode)
	}
	a.DurationMS = time.Since(start).Milliseconds()
	return a
}

func describe(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, errNotPublic):
		return "the URL's host is not a public address"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "the receiver did not answer in time"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "the receiver refused the connection"
	}
	return "the receiver could not be reached"
}
