package auth

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/jwk"
)

// Defaults of RemoteJWKSOptions.
const (
	DefaultJWKSTimeout         = 10 * time.Second
	DefaultJWKSMaxAge          = time.Hour
	DefaultJWKSRefreshInterval = time.Minute
	DefaultJWKSMaxBytes        = 1 << 20
)

// emptyRetryInterval is how soon a RemoteJWKS that holds no keys at all
// retries after a failed fetch (capped by RefreshInterval). Short, so one
// failed fetch at a cold start does not lock providers out for a minute.
const emptyRetryInterval = 5 * time.Second

// RemoteJWKSOptions tune a RemoteJWKS. Zero fields take the defaults.
type RemoteJWKSOptions struct {
	// Client makes the requests. Default: an http.Client with
	// DefaultJWKSTimeout. A fetch is bounded by the client's timeout (or
	// DefaultJWKSTimeout if it has none), never by one caller's context,
	// since callers share it.
	Client *http.Client
	// Clock is the time source for cache ages. Default: the system clock.
	Clock clock.Clock
	// MaxAge is how long a fetched set is used before it is fetched again.
	MaxAge time.Duration
	// RefreshInterval is the least time between two fetches: a kid not in
	// the cached set triggers at most one fetch per interval.
	RefreshInterval time.Duration
	// MaxBytes bounds the response body.
	MaxBytes int64
}

// RemoteJWKS is a KeySource that fetches a JWKS over HTTP (Cognito publishes
// one at <issuer>/.well-known/jwks.json) and caches it.
//
// The set is fetched on first use, again once it is older than MaxAge, and
// early when a token names an unknown kid (key rotation) — but never more
// than once per RefreshInterval. Concurrent callers share one fetch. If a
// refresh fails, the previous set keeps being used. Keys of the set that
// fail jwk validation (wrong type, RSA under 2048 bits, use other than sig,
// no kid) are skipped; a set with no usable key counts as a failed fetch.
// It is safe for concurrent use.
type RemoteJWKS struct {
	url      string
	client   *http.Client
	clock    clock.Clock
	maxAge   time.Duration
	interval time.Duration
	maxBytes int64

	mu          sync.Mutex
	keys        map[string]crypto.PublicKey // nil until a fetch succeeds
	fetchedAt   time.Time                   // of keys
	lastAttempt time.Time                   // of the last fetch, successful or not
	lastErr     error                       // of the last fetch
	inflight    *jwksFetch
}

// jwksFetch is one fetch in progress; done is closed when it ends.
type jwksFetch struct {
	done chan struct{}
}

var _ KeySource = (*RemoteJWKS)(nil)

// NewRemoteJWKS returns a RemoteJWKS for rawURL, which must be https, or
// http to a loopback host (tests, local development).
func NewRemoteJWKS(rawURL string, opts RemoteJWKSOptions) (*RemoteJWKS, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("auth: JWKS URL: %w", err)
	}
	switch {
	case u.Host == "":
		return nil, errors.New("auth: JWKS URL has no host")
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	default:
		return nil, errors.New("auth: JWKS URL must be https (http only to loopback)")
	}
	r := &RemoteJWKS{
		url:      u.String(),
		client:   opts.Client,
		clock:    opts.Clock,
		maxAge:   opts.MaxAge,
		interval: opts.RefreshInterval,
		maxBytes: opts.MaxBytes,
	}
	if r.client == nil {
		r.client = &http.Client{Timeout: DefaultJWKSTimeout}
	}
	if r.clock == nil {
		r.clock = clock.System{}
	}
	if r.maxAge <= 0 {
		r.maxAge = DefaultJWKSMaxAge
	}
	if r.interval <= 0 {
		r.interval = DefaultJWKSRefreshInterval
	}
	if r.maxBytes <= 0 {
		r.maxBytes = DefaultJWKSMaxBytes
	}
	return r, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Key returns the key with kid, fetching the set when the cache is empty,
// stale, or lacks kid and the refresh interval allows. It returns an error
// wrapping ErrUnknownKey when kid is not in the set, ErrKeysUnavailable when
// no set could be fetched, or ctx.Err() if ctx ends while waiting.
func (r *RemoteJWKS) Key(ctx context.Context, kid string) (crypto.PublicKey, error) {
	if kid == "" {
		return nil, ErrUnknownKey
	}
	waited := false
	for {
		r.mu.Lock()
		now := r.clock.Now()
		key, found := r.keys[kid]
		fresh := r.keys != nil && now.Sub(r.fetchedAt) < r.maxAge
		if found && fresh {
			r.mu.Unlock()
			return key, nil
		}
		if f := r.inflight; f != nil && !waited {
			r.mu.Unlock()
			if err := wait(ctx, f); err != nil {
				return nil, err
			}
			waited = true
			continue
		}
		if waited || !r.mayFetchLocked(now) {
			err := r.missLocked(found)
			r.mu.Unlock()
			if err != nil {
				return nil, err
			}
			return key, nil // stale, but the best there is
		}
		f := &jwksFetch{done: make(chan struct{})}
		r.inflight = f
		r.lastAttempt = now
		r.mu.Unlock()

		go r.fetch(f)
		if err := wait(ctx, f); err != nil {
			return nil, err
		}
		waited = true
	}
}

// mayFetchLocked reports whether a fetch may start now: always the first
// time; after emptyRetryInterval while no set is held; otherwise (the set is
// stale or lacks a kid) once RefreshInterval has passed since the last
// attempt. r.mu is held.
func (r *RemoteJWKS) mayFetchLocked(now time.Time) bool {
	if r.lastAttempt.IsZero() {
		return true
	}
	since := now.Sub(r.lastAttempt)
	if r.keys == nil {
		return since >= min(emptyRetryInterval, r.interval)
	}
	return since >= r.interval
}

// missLocked is the answer when no (more) fetch is allowed: nil when the
// kid is in the (stale) set, else the kid is unknown, or nothing is known at
// all. r.mu is held.
func (r *RemoteJWKS) missLocked(found bool) error {
	switch {
	case found:
		return nil
	case r.keys == nil:
		return wrap(ErrKeysUnavailable, r.lastErr)
	default:
		return ErrUnknownKey
	}
}

func wait(ctx context.Context, f *jwksFetch) error {
	select {
	case <-f.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// fetch runs one fetch and publishes its result.
func (r *RemoteJWKS) fetch(f *jwksFetch) {
	keys, err := r.get()
	r.mu.Lock()
	if err == nil {
		r.keys = keys
		r.fetchedAt = r.lastAttempt
	}
	r.lastErr = err
	r.inflight = nil
	r.mu.Unlock()
	close(f.done)
}

// get downloads and parses the set.
func (r *RemoteJWKS) get() (map[string]crypto.PublicKey, error) {
	// Bounded even when the client has no timeout, so a hung server cannot
	// leave the shared fetch in flight forever.
	timeout := r.client.Timeout
	if timeout <= 0 {
		timeout = DefaultJWKSTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("fetch JWKS: status %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, r.maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read JWKS: %w", err)
	}
	if int64(len(body)) > r.maxBytes {
		return nil, fmt.Errorf("JWKS larger than %d bytes", r.maxBytes)
	}
	var set jwk.Set
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("decode JWKS: %w", err)
	}
	keys := make(map[string]crypto.PublicKey, len(set.Keys))
	for _, k := range set.Keys {
		if k.Kid == "" {
			continue
		}
		if _, dup := keys[k.Kid]; dup {
			continue
		}
		pub, err := k.PublicKey()
		if err != nil {
			continue
		}
		keys[k.Kid] = pub
	}
	if len(keys) == 0 {
		return nil, errors.New("JWKS has no usable key")
	}
	return keys, nil
}
