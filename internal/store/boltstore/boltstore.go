package boltstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/store"
)

var (
	_ store.Store      = (*Store)(nil)
	_ store.ChangeFeed = (*Store)(nil)
	_ store.Scanner    = (*Store)(nil)
)

// formatVersion is the file format this build writes and reads; it is kept
// in the meta bucket so that an older build refuses a newer file instead of
// misreading it.
const formatVersion = "1"

var (
	bucketMeta        = []byte("meta")
	bucketItems       = []byte("items")
	bucketGSI1        = []byte("gsi1")
	bucketGSI2        = []byte("gsi2")
	bucketGSI3        = []byte("gsi3")
	bucketExpiry      = []byte("expiry")
	bucketChanges     = []byte("changes")
	bucketCheckpoints = []byte("checkpoints")

	metaFormat = []byte("format")
)

// DynamoDB's limits, enforced here so that what works locally works in
// production.
const (
	maxPartitionKeyBytes = 2048
	maxSortKeyBytes      = 1024
	// maxItemBytes bounds the encoded record. DynamoDB also counts
	// attribute names, so it refuses slightly smaller items than this.
	maxItemBytes = 400 << 10
)

var errClosed = errors.New("boltstore: store is closed")

// Store is the store port on one bbolt file. It is safe for concurrent use
// by the goroutines of one process; bbolt locks the file against others.
type Store struct {
	db   *bolt.DB
	opts options

	mu      sync.Mutex
	changed chan struct{} // closed and replaced after each commit that adds changes

	group groupCommit // group.go

	closeOnce   sync.Once
	closed      chan struct{}
	janitorDone chan struct{}
}

// Option configures Open.
type Option func(*options)

type options struct {
	clock         clock.Clock
	sweepInterval time.Duration
	retention     time.Duration
	logger        *slog.Logger
	noSync        bool
	fallbackPoll  time.Duration
}

// WithClock sets the clock that stamps changes and decides expiry and
// retention; tests pass a fake one.
func WithClock(c clock.Clock) Option { return func(o *options) { o.clock = c } }

// WithSweepInterval sets how often expired items are deleted and old
// changes pruned (default a minute). Zero or less turns the background
// sweep off.
func WithSweepInterval(d time.Duration) Option { return func(o *options) { o.sweepInterval = d } }

// WithLogger sets where the background sweep reports failures (default
// slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithoutSync skips fsync after each commit: a crash may lose the last
// writes. For tests and throwaway stores only.
func WithoutSync() Option { return func(o *options) { o.noSync = true } }

// Open opens or creates the store file at path. It fails after a second if
// another process holds the file.
func Open(path string, opts ...Option) (*Store, error) {
	o := options{
		clock:         clock.System{},
		sweepInterval: time.Minute,
		retention:     changeRetention,
		logger:        slog.Default(),
		fallbackPoll:  defaultFallbackPoll,
	}
	for _, opt := range opts {
		opt(&o)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, NoSync: o.noSync})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("boltstore: %s is in use by another process: %w", path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("boltstore: open %s: %w", path, err)
	}
	if err := db.Update(initialize); err != nil {
		db.Close()
		return nil, fmt.Errorf("boltstore: open %s: %w", path, err)
	}
	s := &Store{
		db:          db,
		opts:        o,
		changed:     make(chan struct{}),
		closed:      make(chan struct{}),
		janitorDone: make(chan struct{}),
	}
	if o.sweepInterval > 0 {
		go s.janitor(o.sweepInterval)
	} else {
		close(s.janitorDone)
	}
	return s, nil
}

func initialize(tx *bolt.Tx) error {
	meta, err := tx.CreateBucketIfNotExists(bucketMeta)
	if err != nil {
		return err
	}
	switch v := meta.Get(metaFormat); {
	case v == nil:
		if err := meta.Put(metaFormat, []byte(formatVersion)); err != nil {
			return err
		}
	case string(v) != formatVersion:
		return fmt.Errorf("file format %q, this build reads %q", v, formatVersion)
	}
	// A file from before GSI3 gets its empty gsi3 bucket here: none of its
	// items has GSI3 keys (their records are version 1), so the empty
	// index is already right.
	for _, name := range [][]byte{bucketItems, bucketGSI1, bucketGSI2, bucketGSI3, bucketExpiry, bucketChanges, bucketCheckpoints} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	return nil
}

// Close stops the background sweep, ends every Consume with an error and
// closes the file.
func (s *Store) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.closed)
		<-s.janitorDone
		err = s.db.Close()
	})
	return err
}

// Get returns the item with the key, expired or not: like DynamoDB, the
// store keeps an expired item until the sweep deletes it.
func (s *Store) Get(ctx context.Context, key store.Key) (store.Item, error) {
	if err := ctx.Err(); err != nil {
		return store.Item{}, err
	}
	if err := checkKey(key); err != nil {
		return store.Item{}, err
	}
	var it store.Item
	err := s.db.View(func(tx *bolt.Tx) error {
		rec := tx.Bucket(bucketItems).Get(itemKey(key))
		if rec == nil {
			return store.ErrNotFound
		}
		var err error
		it, err = decodeItem(rec)
		return err
	})
	return it, err
}

// Put writes the item if cond holds.
func (s *Store) Put(ctx context.Context, item store.Item, cond store.Condition) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	rec, err := checkItem(item)
	if err != nil {
		return err
	}
	return s.update(func(w *writer) error {
		old, err := w.load(item.Key())
		if err != nil {
			return err
		}
		if err := checkCondition(cond, old); err != nil {
			return err
		}
		return w.put(old, item, rec)
	})
}

// Delete removes the item if cond holds. Deleting a missing item is not an
// error unless the condition asks for the item.
func (s *Store) Delete(ctx context.Context, key store.Key, cond store.Condition) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkKey(key); err != nil {
		return err
	}
	return s.update(func(w *writer) error {
		old, err := w.load(key)
		if err != nil {
			return err
		}
		if err := checkCondition(cond, old); err != nil {
			return err
		}
		return w.delete(old)
	})
}

// Transact applies every op or none, in one bbolt transaction.
func (s *Store) Transact(ctx context.Context, ops ...store.Op) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(ops) > store.MaxTransactOps {
		return fmt.Errorf("%w: %d ops, at most %d", store.ErrTooManyOps, len(ops), store.MaxTransactOps)
	}
	keys := make([]store.Key, len(ops))
	records := make([][]byte, len(ops))
	seen := make(map[store.Key]int, len(ops))
	for i, op := range ops {
		k, rec, err := checkOp(op)
		if err != nil {
			return fmt.Errorf("op %d: %w", i, err)
		}
		if j, dup := seen[k]; dup {
			return fmt.Errorf("%w: ops %d and %d have the same key", store.ErrTooManyOps, j, i)
		}
		seen[k] = i
		keys[i], records[i] = k, rec
	}
	if len(ops) == 0 {
		return nil
	}
	return s.update(func(w *writer) error {
		olds := make([]*loaded, len(ops))
		// Every condition is checked before anything is written; the keys
		// are distinct, so no op can see another's write.
		for i, op := range ops {
			old, err := w.load(keys[i])
			if err != nil {
				return err
			}
			if err := checkCondition(op.Cond, old); err != nil {
				return fmt.Errorf("op %d: %w", i, err)
			}
			olds[i] = old
		}
		for i, op := range ops {
			var err error
			switch {
			case op.Put != nil:
				err = w.put(olds[i], *op.Put, records[i])
			case op.Delete != nil:
				err = w.delete(olds[i])
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// Scan returns every item, expired ones included.
func (s *Store) Scan(ctx context.Context) ([]store.Item, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var items []store.Item
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketItems).ForEach(func(_, rec []byte) error {
			it, err := decodeItem(rec)
			if err != nil {
				return err
			}
			items = append(items, it)
			return nil
		})
	})
	return items, err
}

func checkKey(k store.Key) error {
	switch {
	case k.PK == "" || k.SK == "":
		return errors.New("boltstore: a key needs both PK and SK")
	case len(k.PK) > maxPartitionKeyBytes:
		return fmt.Errorf("boltstore: PK of %d bytes, at most %d", len(k.PK), maxPartitionKeyBytes)
	case len(k.SK) > maxSortKeyBytes:
		return fmt.Errorf("boltstore: SK of %d bytes, at most %d", len(k.SK), maxSortKeyBytes)
	}
	return nil
}

// checkItem validates an item for writing and returns its record.
func checkItem(it store.Item) ([]byte, error) {
	if err := checkKey(it.Key()); err != nil {
		return nil, err
	}
	for _, ix := range []struct{ name, pk, sk string }{
		{"GSI1", it.GSI1PK, it.GSI1SK},
		{"GSI2", it.GSI2PK, it.GSI2SK},
		{"GSI3", it.GSI3PK, it.GSI3SK},
	} {
		// DynamoDB refuses an empty string as an index key; an index
		// partition key without its sort key is a mistake either way.
		if ix.pk != "" && ix.sk == "" {
			return nil, fmt.Errorf("boltstore: %sPK is set but %sSK is empty", ix.name, ix.name)
		}
		if len(ix.pk) > maxPartitionKeyBytes || len(ix.sk) > maxSortKeyBytes {
			return nil, fmt.Errorf("boltstore: %s key too long (at most %d and %d bytes)", ix.name, maxPartitionKeyBytes, maxSortKeyBytes)
		}
	}
	rec := encodeItem(it)
	if len(rec) > maxItemBytes {
		return nil, fmt.Errorf("boltstore: item of %d bytes, at most %d", len(rec), maxItemBytes)
	}
	return rec, nil
}

// checkOp validates a transaction op and returns its key and, for a Put,
// the record to write.
func checkOp(op store.Op) (store.Key, []byte, error) {
	set := 0
	for _, isSet := range []bool{op.Put != nil, op.Delete != nil, op.Check != nil} {
		if isSet {
			set++
		}
	}
	if set != 1 {
		return store.Key{}, nil, fmt.Errorf("boltstore: an op sets exactly one of Put, Delete and Check, this one sets %d", set)
	}
	switch {
	case op.Put != nil:
		rec, err := checkItem(*op.Put)
		return op.Put.Key(), rec, err
	case op.Delete != nil:
		return *op.Delete, nil, checkKey(*op.Delete)
	default:
		return *op.Check, nil, checkKey(*op.Check)
	}
}

// checkCondition tells whether cond holds for the stored item (nil when
// missing). The error names neither key nor data, which may identify a
// patient.
func checkCondition(cond store.Condition, old *loaded) error {
	var holds bool
	var want string
	switch cond.Kind {
	case store.Unconditional:
		return nil
	case store.Absent:
		holds, want = old == nil, "no item"
	case store.Exists:
		holds, want = old != nil, "an item"
	case store.VersionIs:
		holds, want = old != nil && old.item.Version == cond.Version, fmt.Sprintf("version %d", cond.Version)
	default:
		return fmt.Errorf("boltstore: unknown condition kind %d", cond.Kind)
	}
	if holds {
		return nil
	}
	found := "no item"
	if old != nil {
		found = fmt.Sprintf("version %d", old.item.Version)
	}
	return fmt.Errorf("%w: want %s, found %s", store.ErrConditionFailed, want, found)
}

// update (group.go) runs fn in a write transaction, grouped with
// concurrent writers, and wakes consumers if it added changes.

// loaded is a stored item with its record.
type loaded struct {
	item   store.Item
	record []byte
}

// writer makes the writes of one transaction, keeping the indexes and the
// change log in step with the items.
type writer struct {
	items, gsi1, gsi2, gsi3, expiry, changes *bolt.Bucket
	checkpoints                              *bolt.Bucket // feed.go
	now                                      time.Time
	added                                    bool
}

func newWriter(tx *bolt.Tx, now time.Time) *writer {
	return &writer{
		items:       tx.Bucket(bucketItems),
		gsi1:        tx.Bucket(bucketGSI1),
		gsi2:        tx.Bucket(bucketGSI2),
		gsi3:        tx.Bucket(bucketGSI3),
		expiry:      tx.Bucket(bucketExpiry),
		changes:     tx.Bucket(bucketChanges),
		checkpoints: tx.Bucket(bucketCheckpoints),
		now:         now,
	}
}

func (w *writer) load(k store.Key) (*loaded, error) {
	rec := w.items.Get(itemKey(k))
	if rec == nil {
		return nil, nil
	}
	it, err := decodeItem(rec)
	if err != nil {
		return nil, err
	}
	return &loaded{item: it, record: bytes.Clone(rec)}, nil
}

// put replaces old (nil if none) with item, whose record is rec.
func (w *writer) put(old *loaded, item store.Item, rec []byte) error {
	// Like DynamoDB Streams, a write that changes nothing adds no change.
	if old != nil && bytes.Equal(old.record, rec) {
		return nil
	}
	if old != nil {
		if err := w.unindex(old.item); err != nil {
			return err
		}
	}
	if err := w.items.Put(itemKey(item.Key()), rec); err != nil {
		return err
	}
	if err := w.index(item); err != nil {
		return err
	}
	var oldRecord []byte
	if old != nil {
		oldRecord = old.record
	}
	return w.addChange(oldRecord, rec)
}

// delete removes old, if there is one.
func (w *writer) delete(old *loaded) error {
	if old == nil {
		return nil
	}
	if err := w.unindex(old.item); err != nil {
		return err
	}
	if err := w.items.Delete(itemKey(old.item.Key())); err != nil {
		return err
	}
	return w.addChange(old.record, nil)
}

func (w *writer) index(it store.Item) error {
	k := it.Key()
	ik := itemKey(k)
	if it.GSI1PK != "" {
		if err := w.gsi1.Put(indexKey(it.GSI1PK, it.GSI1SK, k), ik); err != nil {
			return err
		}
	}
	if it.GSI2PK != "" {
		if err := w.gsi2.Put(indexKey(it.GSI2PK, it.GSI2SK, k), ik); err != nil {
			return err
		}
	}
	if it.GSI3PK != "" {
		if err := w.gsi3.Put(indexKey(it.GSI3PK, it.GSI3SK, k), ik); err != nil {
			return err
		}
	}
	if !it.ExpiresAt.IsZero() {
		if err := w.expiry.Put(expiryKey(it.ExpiresAt, k), nil); err != nil {
			return err
		}
	}
	return nil
}

func (w *writer) unindex(it store.Item) error {
	k := it.Key()
	if it.GSI1PK != "" {
		if err := w.gsi1.Delete(indexKey(it.GSI1PK, it.GSI1SK, k)); err != nil {
			return err
		}
	}
	if it.GSI2PK != "" {
		if err := w.gsi2.Delete(indexKey(it.GSI2PK, it.GSI2SK, k)); err != nil {
			return err
		}
	}
	if it.GSI3PK != "" {
		if err := w.gsi3.Delete(indexKey(it.GSI3PK, it.GSI3SK, k)); err != nil {
			return err
		}
	}
	if !it.ExpiresAt.IsZero() {
		if err := w.expiry.Delete(expiryKey(it.ExpiresAt, k)); err != nil {
			return err
		}
	}
	return nil
}

// addChange appends a change record in the same transaction as the write,
// so a committed write always has its change and a rolled-back one none.
// bbolt runs one write transaction at a time, so sequence order is commit
// order.
func (w *writer) addChange(oldRecord, newRecord []byte) error {
	seq, err := w.changes.NextSequence()
	if err != nil {
		return err
	}
	w.added = true
	return w.changes.Put(seqKey(seq), encodeChange(w.now, oldRecord, newRecord))
}
