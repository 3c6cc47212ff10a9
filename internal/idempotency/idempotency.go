// Package idempotency makes a repeated POST with the same Idempotency-Key,
// by the same caller, within 24 hours, return the first response and change
// nothing — even when the repeats arrive at once.
//
// The first request reserves the key with a create-if-absent write; repeats
// that find the reservation pending wait for the stored response. A
// reservation whose owner died (crash, timeout) is taken over after a lease.
package idempotency

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"

	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/fault"
	"github.com/goodfaith/goodfaith/internal/store"
)

// Window is how long a key is remembered.
const Window = 24 * time.Hour

// MaxKeyLen is the longest key accepted.
const MaxKeyLen = 255

// Response is what is replayed.
type Response struct {
	Status      int    `json:"status"`
	ContentType string `json:"content_type"`
	Body        []byte `json:"body"`
}

type record struct {
	State       string    `json:"state"` // pending | done
	Fingerprint string    `json:"fingerprint"`
	LeaseUntil  time.Time `json:"lease_until"`
	Response    *Response `json:"response,omitempty"`
}

// Keeper stores keys and responses.
type Keeper struct {
	Store store.Store
	Clock clock.Clock
	// Lease is how long a pending reservation blocks others (default 30s);
	// Wait is how long a repeat waits for it (default 10s); Poll is the
	// interval of that wait (default 25ms).
	Lease, Wait, Poll time.Duration
}

func (k Keeper) lease() time.Duration { return orDefault(k.Lease, 30*time.Second) }
func (k Keeper) wait() time.Duration  { return orDefault(k.Wait, 10*time.Second) }
func (k Keeper) poll() time.Duration  { return orDefault(k.Poll, 25*time.Millisecond) }

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// Do runs fn once per (scope, key). scope names the caller; fingerprint
// identifies the request (method, path, body): the same key with another
// request is refused. fn's response is stored unless it is a server error,
// which leaves the key free for a retry.
func (k Keeper) Do(ctx context.Context, scope, key, fingerprint string, fn func() (Response, error)) (Response, error) {
	if key == "" || len(key) > MaxKeyLen {
		return Response{}, fault.Invalid("invalid_idempotency_key", "Idempotency-Key", "the key must be 1 to 255 characters")
	}
	sk := keyFor(scope, key)
	// Waiting is real time, whatever clock the records use.
	deadline := time.Now().Add(k.wait())
	for {
		now := k.Clock.Now()
		rec := record{State: "pending", Fingerprint: fingerprint, LeaseUntil: now.Add(k.lease())}
		version, err := k.reserve(ctx, sk, rec, now)
		if err == nil {
			return k.run(ctx, sk, rec, version, fn)
		}
		if !errors.Is(err, errHeld) {
			return Response{}, err
		}
		held, _, err := k.read(ctx, sk)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return Response{}, err
		}
		if err == nil {
			if held.Fingerprint != fingerprint {
				return Response{}, fault.Invalid("idempotency_key_reused", "Idempotency-Key", "this key was used with a different request")
			}
			if held.State == "done" && held.Response != nil {
				return *held.Response, nil
			}
		}
		if time.Now().After(deadline) {
			return Response{}, fault.Conflict("idempotency_in_progress", "a request with this key is still running; retry shortly")
		}
		select {
		case <-ctx.Done():
			return Response{}, ctx.Err()
		case <-time.After(k.poll()):
		}
	}
}

var errHeld = errors.New("idempotency: key held")

// keyFor is the record's key: a digest, so that keys of any bytes are safe.
func keyFor(scope, key string) store.Key {
	sum := sha256.Sum256([]byte(scope + "\x00" + key))
	return store.Key{PK: "IDEM#" + hex.EncodeToString(sum[:]), SK: "IDEM"}
}

// reserve creates the record, or takes over one that expired (older than
// the window) or whose pending lease ran out.
func (k Keeper) reserve(ctx context.Context, sk store.Key, rec record, now time.Time) (int64, error) {
	item := store.Item{PK: sk.PK, SK: sk.SK, Version: 1, ExpiresAt: now.Add(Window)}
	item.Data, _ = json.Marshal(rec)
	err := k.Store.Put(ctx, item, store.IfAbsent)
	if err == nil {
		return 1, nil
	}
	if !errors.Is(err, store.ErrConditionFailed) {
		return 0, err
	}
	held, it, err := k.read(ctx, sk)
	if errors.Is(err, store.ErrNotFound) {
		return 0, errHeld // deleted meanwhile: loop and try again
	}
	if err != nil {
		return 0, err
	}
	stale := it.Expired(now) || held.State == "pending" && now.After(held.LeaseUntil)
	if !stale {
		return 0, errHeld
	}
	item.Version = it.Version + 1
	if err := k.Store.Put(ctx, item, store.IfVersion(it.Version)); err != nil {
		if errors.Is(err, store.ErrConditionFailed) {
			return 0, errHeld
		}
		return 0, err
	}
	return item.Version, nil
}

func (k Keeper) read(ctx context.Context, sk store.Key) (record, store.Item, error) {
	it, err := k.Store.Get(ctx, sk)
	if err != nil {
		return record{}, store.Item{}, err
	}
	var rec record
	return rec, it, json.Unmarshal(it.Data, &rec)
}

func (k Keeper) run(ctx context.Context, sk store.Key, rec record, version int64, fn func() (Response, error)) (Response, error) {
	resp, err := fn()
	// Write back with a context that outlives a cancelled request: the
	// work is done and its answer must be kept.
	bg := context.WithoutCancel(ctx)
	if err != nil || resp.Status >= 500 {
		// Nothing trustworthy to replay: free the key for a retry.
		_ = k.Store.Delete(bg, sk, store.IfVersion(version))
		return resp, err
	}
	rec.State, rec.Response = "done", &resp
	item := store.Item{PK: sk.PK, SK: sk.SK, Version: version + 1, ExpiresAt: k.Clock.Now().Add(Window)}
	item.Data, _ = json.Marshal(rec)
	if err := k.Store.Put(bg, item, store.IfVersion(version)); err != nil {
		return Response{}, err
	}
	return resp, nil
}
