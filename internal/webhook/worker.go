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

	"github.com/goodfaith/goodfaith/internal/queue"
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
// It is rounded up to whole seconds, the granularity of a queue's delays
// (SQS DelaySeconds), so a job is never received before its attempt is due.
func (b Backoff) Delay(n int, r float64) time.Duration {
	d := b.Nominal(n)
	return queue.CeilSecond(d/2 + time.Duration(r*float64(d/2)))
}

// Headers of a delivery besides the signature.
const (
	EventIDHeader   = "Goodfaith-Event-Id"
	EventTypeHeader = "Goodfaith-Event-Type"
	AttemptHeader   = "Goodfaith-Delivery-Attempt"
)

// Worker sends deliveries as their jobs come off the queue (Handle, Drain,
// Run) and re-drives the ones whose job was lost (Redrive).
type Worker struct {
	Queue     Queue
	Endpoints Endpoints
	// Client sends the requests; nil: NewClient(Endpoints.AllowLoopback).
	Client  *http.Client
	Backoff Backoff       // zero: DefaultBackoff
	Timeout time.Duration // per attempt, real time; default defaultAttemptTimeout
	// Concurrency bounds the deliveries in flight, so one slow receiver
	// holds one slot, not the queue (default 8); Batch is the page size of
	// Redrive's scan (default 100).
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
			w.Timeout = defaultAttemptTimeout
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

// defaultAttemptTimeout is an attempt's timeout unless Worker.Timeout says
// otherwise; leaseMargin is the time a lease allows beyond it to record the
// attempt.
const (
	defaultAttemptTimeout = 10 * time.Second
	leaseMargin           = time.Minute
)

// lease is how long an attempt holds its delivery (and a received job stays
// invisible): the attempt's timeout and a margin to record it.
func (w *Worker) lease() time.Duration { return w.Timeout + leaseMargin }

// RedriveInterval is how often Run re-drives overdue deliveries.
const RedriveInterval = time.Minute

// Run is the consumer of one machine, until ctx ends: it re-drives what is
// overdue (at once, so a restart loses nothing the store holds, then every
// RedriveInterval) and drains the jobs visible on rx when rx says jobs are
// ready (queue.Memory.Ready: every enqueue and replay sends an undelayed
// job), else every interval.
func (w *Worker) Run(ctx context.Context, rx queue.Receiver, ready <-chan struct{}, interval time.Duration) {
	w.init()
	t := time.NewTicker(interval)
	defer t.Stop()
	var lastRedrive time.Time
	for {
		if now := time.Now(); now.Sub(lastRedrive) >= RedriveInterval {
			lastRedrive = now
			if _, err := w.Redrive(ctx, RedriveGrace); err != nil && ctx.Err() == nil {
				w.Log.ErrorContext(ctx, "webhook redrive", "error", err.Error())
			}
		}
		if _, err := w.Drain(ctx, rx); err != nil && ctx.Err() == nil {
			w.Log.ErrorContext(ctx, "webhook worker", "error", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-ready:
		}
	}
}

// attempt takes a due delivery under a lease, sends it, records the
// outcome and queues the next attempt's job. It reports whether it sent
// anything.
func (w *Worker) attempt(ctx context.Context, d Delivery, now time.Time) (bool, error) {
	// The lease: while the attempt runs the delivery is due only when the
	// lease ends, so a crashed attempt is retried then (by its job coming
	// back, or by Redrive). The conditional write is what makes duplicate
	// jobs harmless: only one of them gets past it.
	leased := d
	until := now.Add(w.lease())
	leased.NextAttemptAt, leased.LeaseUntil, leased.JobSentAt = until, &until, nil
	if err := w.Queue.Store.Put(ctx, leased.item(d.version+1), store.IfVersion(d.version)); err != nil {
		if errors.Is(err, store.ErrConditionFailed) {
			return false, nil // another job took it
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
	// only send it again after the lease. That repeat (the receiver may
	// already have the event) is why receivers de-duplicate on the event
	// id: step 6 of doc.go's recipe.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := w.Queue.Store.Put(rctx, done.item(leased.version+1), store.IfVersion(leased.version)); err != nil {
		return true, fmt.Errorf("webhook: record attempt of %s: %w", d.EventID, err)
	}
	w.Log.InfoContext(ctx, "webhook attempt", "event", d.EventID, "type", d.Type, "clinic", d.ClinicID, "status", a.Status, "error", a.Error, "result", done.Status)
	if done.Status == Pending {
		// If this send fails the job comes back, finds the delivery moved
		// on and is dropped; Redrive queues it again once overdue.
		if err := w.Queue.schedule(rctx, done); err != nil {
			return true, err
		}
	}
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
