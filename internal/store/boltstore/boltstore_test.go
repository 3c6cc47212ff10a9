package boltstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/store"
)

// withFallbackPoll sets how often an idle consumer polls; tests make it long
// to show that commits wake consumers.
func withFallbackPoll(d time.Duration) Option { return func(o *options) { o.fallbackPoll = d } }

// Bounds of waits for something asynchronous; a passing test is quicker.
const waitLimit = 10 * time.Second

var t0 = time.Date(2030, time.January, 2, 3, 4, 5, 0, time.UTC)

func put(t *testing.T, s *Store, it store.Item) {
	t.Helper()
	if err := s.Put(context.Background(), it, store.None); err != nil {
		t.Fatalf("Put(%s|%s): %v", it.PK, it.SK, err)
	}
}

// feedLog reads every change record in the file.
func feedLog(t *testing.T, s *Store) []store.Change {
	t.Helper()
	var out []store.Change
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketChanges).ForEach(func(k, v []byte) error {
			ch, err := decodeChange(uint64FromKey(k), v)
			out = append(out, ch)
			return err
		})
	})
	if err != nil {
		t.Fatalf("reading the change log: %v", err)
	}
	return out
}

func uint64FromKey(k []byte) uint64 {
	var n uint64
	for _, b := range k {
		n = n<<8 | uint64(b)
	}
	return n
}

// bucketLen counts a bucket's entries.
func bucketLen(t *testing.T, s *Store, name []byte) int {
	t.Helper()
	n := 0
	if err := s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(name).Stats().KeyN
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

// consumeUntil runs Consume until the changes it has handled satisfy done,
// then stops it, and returns every change handled.
func consumeUntil(t *testing.T, s *Store, name string, done func([]store.Change) bool) []store.Change {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var got []store.Change
	satisfied := make(chan struct{})
	result := make(chan error, 1)
	go func() {
		result <- s.Consume(ctx, name, func(_ context.Context, changes []store.Change) error {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, changes...)
			if done(got) {
				select {
				case <-satisfied:
				default:
					close(satisfied)
				}
			}
			return nil
		})
	}()
	select {
	case <-satisfied:
	case err := <-result:
		t.Fatalf("Consume returned early: %v", err)
	case <-time.After(waitLimit):
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("consumer %q: condition not met within %v; got %d changes", name, waitLimit, len(got))
	}
	cancel()
	if err := <-result; !errors.Is(err, context.Canceled) {
		t.Fatalf("Consume after cancel: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	return slices.Clone(got)
}

func TestCommitWakesIdleConsumer(t *testing.T) {
	// With polling an hour apart, only the commit notification can deliver
	// the second change in time.
	s := openTemp(t, withFallbackPoll(time.Hour), WithoutSync())
	put(t, s, store.Item{PK: "p", SK: "1", Version: 1})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	seen := make(chan string, 10)
	result := make(chan error, 1)
	go func() {
		result <- s.Consume(ctx, "waker", func(_ context.Context, changes []store.Change) error {
			for _, ch := range changes {
				seen <- ch.Key.SK
			}
			return nil
		})
	}()
	for _, want := range []string{"1", "2"} {
		if want == "2" {
			// The consumer has handled "1" and is idle, or about to be.
			put(t, s, store.Item{PK: "p", SK: "2", Version: 1})
		}
		select {
		case got := <-seen:
			if got != want {
				t.Fatalf("delivered %q, want %q", got, want)
			}
		case <-time.After(waitLimit):
			t.Fatalf("change %q not delivered within %v", want, waitLimit)
		}
	}
	cancel()
	if err := <-result; !errors.Is(err, context.Canceled) {
		t.Fatalf("Consume: %v", err)
	}
}

func TestSweepDeletesExpiredItems(t *testing.T) {
	clk := clock.NewFake(t0)
	s := openTemp(t, WithClock(clk), WithSweepInterval(0), WithoutSync())
	ctx := context.Background()
	soon := store.Item{PK: "ttl", SK: "soon", GSI1PK: "g", GSI1SK: "soon", Version: 1, ExpiresAt: t0.Add(10 * time.Second)}
	later := store.Item{PK: "ttl", SK: "later", GSI2PK: "q", GSI2SK: "later", Version: 1, ExpiresAt: t0.Add(20 * time.Second)}
	never := store.Item{PK: "ttl", SK: "never", Version: 1}
	extended := store.Item{PK: "ttl", SK: "extended", Version: 1, ExpiresAt: t0.Add(5 * time.Second)}
	cleared := store.Item{PK: "ttl", SK: "cleared", Version: 1, ExpiresAt: t0.Add(5 * time.Second)}
	for _, it := range []store.Item{soon, later, never, extended, cleared} {
		put(t, s, it)
	}
	// Moving or removing an expiry takes the item off the old schedule.
	extended.ExpiresAt, extended.Version = t0.Add(time.Hour), 2
	cleared.ExpiresAt, cleared.Version = time.Time{}, 2
	put(t, s, extended)
	put(t, s, cleared)

	clk.Advance(15 * time.Second)
	// Until the sweep runs, an expired item is still there; readers check
	// Expired themselves.
	got, err := s.Get(ctx, soon.Key())
	if err != nil || !got.Expired(clk.Now()) {
		t.Fatalf("before the sweep: Get = %+v, %v; want the expired item", got, err)
	}
	if err := s.sweep(); err != nil {
		t.Fatalf("sweep: %v", err)
	}
	if _, err := s.Get(ctx, soon.Key()); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after the sweep: Get(soon) = %v; want ErrNotFound", err)
	}
	for _, it := range []store.Item{later, never, extended, cleared} {
		if _, err := s.Get(ctx, it.Key()); err != nil {
			t.Fatalf("Get(%s) after the sweep: %v", it.SK, err)
		}
	}
	page, err := s.Query(ctx, store.Query{Index: store.ByGSI1, PK: "g"})
	if err != nil || len(page.Items) != 0 {
		t.Fatalf("ByGSI1 after the sweep: %+v, %v; want no items", page.Items, err)
	}

	// Expiry at exactly now counts as expired, as Item.Expired says.
	clk.Set(later.ExpiresAt)
	if err := s.sweep(); err != nil {
		t.Fatalf("sweep: %v", err)
	}
	if _, err := s.Get(ctx, later.Key()); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get(later) at its expiry after a sweep: %v; want ErrNotFound", err)
	}
	if n := bucketLen(t, s, bucketExpiry); n != 1 {
		t.Fatalf("expiry index holds %d entries, want 1 (extended)", n)
	}

	// The deletions are on the feed, as DynamoDB TTL deletions are in the
	// stream.
	var deleted []string
	for _, ch := range feedLog(t, s) {
		if ch.New == nil {
			deleted = append(deleted, ch.Old.SK)
			if !ch.At.Equal(clk.Now()) && !ch.At.Equal(t0.Add(15*time.Second)) {
				t.Errorf("deletion of %s stamped %v", ch.Old.SK, ch.At)
			}
		}
	}
	if !slices.Equal(deleted, []string{"soon", "later"}) {
		t.Fatalf("deletions on the feed: %v, want [soon later]", deleted)
	}
}

func TestSweepWorksInBatches(t *testing.T) {
	clk := clock.NewFake(t0)
	s := openTemp(t, WithClock(clk), WithSweepInterval(0), WithoutSync())
	n := sweepBatch*2 + 7
	for i := range n {
		put(t, s, store.Item{PK: "bulk", SK: fmt.Sprintf("%05d", i), Version: 1, ExpiresAt: t0.Add(time.Duration(i%3) * time.Second)})
	}
	clk.Advance(time.Minute)
	if err := s.sweep(); err != nil {
		t.Fatalf("sweep: %v", err)
	}
	if items, _ := s.Scan(context.Background()); len(items) != 0 {
		t.Fatalf("%d items left after the sweep", len(items))
	}
}

func TestBackgroundSweep(t *testing.T) {
	clk := clock.NewFake(t0.Add(time.Hour))
	s := openTemp(t, WithClock(clk), WithSweepInterval(10*time.Millisecond), WithoutSync())
	put(t, s, store.Item{PK: "bg", SK: "1", Version: 1, ExpiresAt: t0})
	deadline := time.Now().Add(waitLimit)
	for {
		_, err := s.Get(context.Background(), store.Key{PK: "bg", SK: "1"})
		if errors.Is(err, store.ErrNotFound) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the background sweep did not delete the expired item within %v (Get: %v)", waitLimit, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestChangesPrunedAfterRetention(t *testing.T) {
	clk := clock.NewFake(t0)
	s := openTemp(t, WithClock(clk), WithSweepInterval(0), WithoutSync())
	put(t, s, store.Item{PK: "old", SK: "1", Version: 1})
	clk.Advance(23 * time.Hour)
	put(t, s, store.Item{PK: "recent", SK: "1", Version: 1})
	clk.Advance(time.Hour - time.Second)
	if err := s.sweep(); err != nil {
		t.Fatalf("sweep: %v", err)
	}
	if n := len(feedLog(t, s)); n != 2 {
		t.Fatalf("%d changes kept just inside the retention, want 2", n)
	}
	clk.Advance(2 * time.Second)
	if err := s.sweep(); err != nil {
		t.Fatalf("sweep: %v", err)
	}
	log := feedLog(t, s)
	if len(log) != 1 || log[0].Key.PK != "recent" {
		t.Fatalf("past 24 hours the log holds %d changes (%+v), want only the recent one", len(log), log)
	}
	// The items themselves are untouched, and a new consumer starts at
	// the oldest change kept.
	if _, err := s.Get(context.Background(), store.Key{PK: "old", SK: "1"}); err != nil {
		t.Fatalf("Get(old): %v", err)
	}
	got := consumeUntil(t, s, "late", func(c []store.Change) bool { return len(c) >= 1 })
	if got[0].Key.PK != "recent" || got[0].ID != log[0].ID {
		t.Fatalf("a new consumer starts at %+v, want the oldest kept change %s", got[0], log[0].ID)
	}
}

func TestReopenKeepsItemsIndexesAndCheckpoints(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	s, err := Open(path, WithSweepInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	first := store.Item{PK: "keep", SK: "1", GSI1PK: "g", GSI1SK: "1", GSI2PK: "q", GSI2SK: "1", GSI3PK: "d", GSI3SK: "1", Version: 1, ExpiresAt: t0, Data: []byte{0, 1, 2}}
	put(t, s, first)
	consumeUntil(t, s, "durable", func(c []store.Change) bool { return len(c) >= 1 })
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	s, err = Open(path, WithSweepInterval(0))
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	got, err := s.Get(ctx, first.Key())
	if err != nil || got.GSI2SK != "1" || got.GSI3SK != "1" || !got.ExpiresAt.Equal(t0) || !bytes.Equal(got.Data, first.Data) {
		t.Fatalf("after reopening: Get = %+v, %v", got, err)
	}
	for _, ix := range []store.Index{store.ByGSI1, store.ByGSI2, store.ByGSI3} {
		page, err := s.Query(ctx, store.Query{Index: ix, PK: map[store.Index]string{store.ByGSI1: "g", store.ByGSI2: "q", store.ByGSI3: "d"}[ix]})
		if err != nil || len(page.Items) != 1 {
			t.Fatalf("index %d after reopening: %+v, %v", ix, page, err)
		}
	}
	// The checkpoint was saved before Consume returned, so the consumer
	// resumes exactly after the first change.
	second := store.Item{PK: "keep", SK: "2", Version: 1}
	put(t, s, second)
	resumed := consumeUntil(t, s, "durable", func(c []store.Change) bool { return len(c) >= 1 })
	if resumed[0].Key != second.Key() {
		t.Fatalf("after reopening, the consumer resumed at %v, want %v", resumed[0].Key, second.Key())
	}
}

func TestOpenRefusesLockedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	s, err := Open(path, WithSweepInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := Open(path); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second Open of a held file: %v; want an 'in use' error", err)
	}
}

// A file written before GSI3 has no gsi3 bucket and only version 1
// records. Open adds the bucket; its items read as they were, rewriting one
// unchanged adds no change, and new items join GSI3.
func TestOpenAddsGSI3ToAnOlderFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	s, err := Open(path, WithSweepInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	old := store.Item{PK: "old", SK: "1", GSI2PK: "q", GSI2SK: "1", Version: 1, Data: []byte("v1")}
	put(t, s, old)
	s.Close()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket(bucketGSI3) }); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err = Open(path, WithSweepInterval(0))
	if err != nil {
		t.Fatalf("reopening a file without gsi3: %v", err)
	}
	defer s.Close()
	ctx := context.Background()
	if got, err := s.Get(ctx, old.Key()); err != nil || got.GSI2SK != "1" || got.GSI3PK != "" || string(got.Data) != "v1" {
		t.Fatalf("Get of the older item = %+v, %v", got, err)
	}
	changes := len(feedLog(t, s))
	put(t, s, old)
	if n := len(feedLog(t, s)); n != changes {
		t.Fatalf("rewriting an unchanged version 1 item added %d changes", n-changes)
	}
	due := old
	due.GSI3PK, due.GSI3SK, due.Version = "d", "1", 2
	put(t, s, due)
	page, err := s.Query(ctx, store.Query{Index: store.ByGSI3, PK: "d"})
	if err != nil || len(page.Items) != 1 || page.Items[0].Version != 2 {
		t.Fatalf("GSI3 after the item joined it: %+v, %v", page, err)
	}
}

func TestOpenRefusesOtherFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		return b.Put(metaFormat, []byte("2"))
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if s, err := Open(path); err == nil {
		s.Close()
		t.Fatal("Open accepted a file of format 2")
	}
}

func TestCloseEndsConsume(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	s, err := Open(path, WithSweepInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	result := make(chan error, 1)
	go func() {
		result <- s.Consume(context.Background(), "c", func(context.Context, []store.Change) error { return nil })
	}()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-result:
		if !errors.Is(err, errClosed) {
			t.Fatalf("Consume after Close: %v, want errClosed", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("Consume did not return after Close")
	}
}

// The record layouts are the file format: these bytes are what doc.go
// describes, and a build that stops reading them breaks existing files.
func TestRecordFormatIsStable(t *testing.T) {
	it := store.Item{
		PK: "p", SK: "s", GSI1PK: "g1", GSI1SK: "a",
		Version: 3, ExpiresAt: time.Unix(1700000000, 0), Data: []byte("{}"),
	}
	wantItem := []byte{
		0x01,      // record version
		0x01, 'p', // PK
		0x01, 's', // SK
		0x02, 'g', '1', // GSI1PK
		0x01, 'a', // GSI1SK
		0x00,                         // GSI2PK
		0x00,                         // GSI2SK
		0x06,                         // Version 3, zig-zag varint
		0x01,                         // flags: has expiry
		0x80, 0xc4, 0x9f, 0xd5, 0x0c, // 1700000000 s, zig-zag varint
		0x02, '{', '}', // Data
	}
	if got := encodeItem(it); !bytes.Equal(got, wantItem) {
		t.Fatalf("encodeItem = % x\nwant         % x", got, wantItem)
	}
	decoded, err := decodeItem(wantItem)
	if err != nil || decoded.PK != "p" || decoded.GSI1PK != "g1" || decoded.Version != 3 || !decoded.ExpiresAt.Equal(it.ExpiresAt) || string(decoded.Data) != "{}" {
		t.Fatalf("decodeItem = %+v, %v", decoded, err)
	}

	// An item with GSI3 keys is a version 2 record: version 1's fields,
	// then GSI3PK and GSI3SK.
	withGSI3 := store.Item{PK: "p", SK: "s", GSI3PK: "SLA", GSI3SK: "t", Version: 1}
	wantV2 := []byte{
		0x02,      // record version
		0x01, 'p', // PK
		0x01, 's', // SK
		0x00, 0x00, 0x00, 0x00, // GSI1PK, GSI1SK, GSI2PK, GSI2SK
		0x03, 'S', 'L', 'A', // GSI3PK
		0x01, 't', // GSI3SK
		0x02, // Version 1, zig-zag varint
		0x00, // flags: no expiry
		0x00, // Data
	}
	if got := encodeItem(withGSI3); !bytes.Equal(got, wantV2) {
		t.Fatalf("encodeItem with GSI3 = % x\nwant                  % x", got, wantV2)
	}
	if decoded, err := decodeItem(wantV2); err != nil || decoded.GSI3PK != "SLA" || decoded.GSI3SK != "t" || decoded.GSI2PK != "" || decoded.Version != 1 {
		t.Fatalf("decodeItem of version 2 = %+v, %v", decoded, err)
	}

	at := time.Unix(1700000000, 123456789)
	wantChange := append([]byte{
		0x01,                                                 // record version
		0xaa, 0xb4, 0xae, 0xd8, 0xc7, 0xbf, 0xce, 0x97, 0x2f, // At, unix ns, zig-zag varint
		0x01,                // flags: old image only (a deletion)
		byte(len(wantItem)), // old image length
	}, wantItem...)
	if got := encodeChange(at, wantItem, nil); !bytes.Equal(got, wantChange) {
		t.Fatalf("encodeChange = % x\nwant           % x", got, wantChange)
	}
	ch, err := decodeChange(42, wantChange)
	if err != nil || ch.ID != "00000000000000000042" || ch.New != nil || ch.Old == nil || ch.Key != it.Key() || !ch.At.Equal(at) {
		t.Fatalf("decodeChange = %+v, %v", ch, err)
	}

	// Keys: components escape NUL as 00 FF and end with 00 01.
	if got, want := itemKey(store.Key{PK: "a\x00b", SK: "c"}), []byte{'a', 0, 0xff, 'b', 0, 1, 'c', 0, 1}; !bytes.Equal(got, want) {
		t.Fatalf("itemKey = % x, want % x", got, want)
	}
}

func TestDecodeRejectsDamagedRecords(t *testing.T) {
	rec := encodeItem(store.Item{PK: "p", SK: "s", Version: 1, Data: []byte("data")})
	recV2 := encodeItem(store.Item{PK: "p", SK: "s", GSI3PK: "due", GSI3SK: "1", Version: 1, Data: []byte("data")})
	for _, r := range [][]byte{rec, recV2} {
		for i := range len(r) {
			if _, err := decodeItem(r[:i]); err == nil {
				t.Errorf("decodeItem accepted a version %d record cut to %d of %d bytes", r[0], i, len(r))
			}
		}
		if _, err := decodeItem(append(slices.Clone(r), 0)); err == nil {
			t.Errorf("decodeItem accepted trailing bytes after a version %d record", r[0])
		}
	}
	bad := slices.Clone(rec)
	bad[0] = 3
	if _, err := decodeItem(bad); err == nil {
		t.Error("decodeItem accepted record version 3")
	}
	ch := encodeChange(t0, nil, rec)
	for i := range len(ch) {
		if _, err := decodeChange(1, ch[:i]); err == nil {
			t.Errorf("decodeChange accepted a record cut to %d of %d bytes", i, len(ch))
		}
	}
}

// Concatenated components must sort as tuples of strings sort, byte-wise,
// whatever bytes the strings hold.
func TestKeyComponentsSortAsTuples(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte{0x00, 0x01, 0xff, 'a', 'b'}
	randomString := func() string {
		b := make([]byte, rng.IntN(4))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(b)
	}
	for range 20000 {
		a := []string{randomString(), randomString()}
		b := []string{randomString(), randomString()}
		ka := appendComponent(appendComponent(nil, a[0]), a[1])
		kb := appendComponent(appendComponent(nil, b[0]), b[1])
		want := strings.Compare(a[0], b[0])
		if want == 0 {
			want = strings.Compare(a[1], b[1])
		}
		if got := bytes.Compare(ka, kb); got != want {
			t.Fatalf("%q vs %q: keys compare %d, tuples %d", a, b, got, want)
		}
		k, err := decodeItemKey(ka)
		if err != nil || k.PK != a[0] || k.SK != a[1] {
			t.Fatalf("decodeItemKey(%x) = %+v, %v; want %q", ka, k, err, a)
		}
		// A prefix of the sort key is a prefix of the key exactly when
		// the partition matches.
		prefix := appendEscaped(appendComponent(nil, b[0]), b[1])
		if got, want := bytes.HasPrefix(ka, prefix), a[0] == b[0] && strings.HasPrefix(a[1], b[1]); got != want {
			t.Fatalf("prefix %q of %q: key match %v, want %v", b, a, got, want)
		}
	}
}

func TestQueryPartitionsWithNULBytes(t *testing.T) {
	s := openTemp(t, WithSweepInterval(0), WithoutSync())
	for _, pk := range []string{"a", "a\x00", "a\x00b", "a\x01"} {
		put(t, s, store.Item{PK: pk, SK: "s\x00" + pk, Version: 1})
	}
	for _, pk := range []string{"a", "a\x00", "a\x00b", "a\x01"} {
		page, err := s.Query(context.Background(), store.Query{Index: store.Primary, PK: pk, SKPrefix: "s\x00"})
		if err != nil || len(page.Items) != 1 || page.Items[0].PK != pk {
			t.Fatalf("Query(%q) = %+v, %v; want its one item", pk, page.Items, err)
		}
	}
}

func TestCursorIsValidated(t *testing.T) {
	s := openTemp(t, WithSweepInterval(0), WithoutSync())
	ctx := context.Background()
	for i := range 4 {
		put(t, s, store.Item{PK: "c", SK: fmt.Sprint(i), GSI1PK: "c", GSI1SK: fmt.Sprint(i), Version: 1})
	}
	put(t, s, store.Item{PK: "d", SK: "0", Version: 1})
	q := store.Query{Index: store.Primary, PK: "c", Limit: 2}
	page, err := s.Query(ctx, q)
	if err != nil || page.Cursor == "" {
		t.Fatalf("first page: %+v, %v", page, err)
	}
	cursor := page.Cursor
	next := q
	next.Cursor = cursor
	if _, err := s.Query(ctx, next); err != nil {
		t.Fatalf("the issued cursor: %v", err)
	}
	misuse := map[string]store.Query{
		"another partition":  {Index: store.Primary, PK: "d", Cursor: cursor},
		"another prefix":     {Index: store.Primary, PK: "c", SKPrefix: "3", Cursor: cursor},
		"another index":      {Index: store.ByGSI1, PK: "c", Cursor: cursor},
		"another direction":  {Index: store.Primary, PK: "c", Descending: true, Cursor: cursor},
		"truncated":          {Index: store.Primary, PK: "c", Cursor: cursor[:len(cursor)-2]},
		"one character more": {Index: store.Primary, PK: "c", Cursor: cursor + "A"},
	}
	for i := range len(cursor) {
		edited := []byte(cursor)
		edited[i] ^= 0x01
		misuse[fmt.Sprintf("edited at %d", i)] = store.Query{Index: store.Primary, PK: "c", Cursor: string(edited)}
	}
	for name, bad := range misuse {
		if _, err := s.Query(ctx, bad); !errors.Is(err, store.ErrInvalidCursor) {
			t.Errorf("%s: %v; want ErrInvalidCursor", name, err)
		}
	}
}

func TestQueryPagesExactly(t *testing.T) {
	s := openTemp(t, WithSweepInterval(0), WithoutSync())
	ctx := context.Background()
	n := store.MaxQueryLimit + 5
	ops := make([]store.Op, 0, store.MaxTransactOps)
	flush := func() {
		if err := s.Transact(ctx, ops...); err != nil {
			t.Fatal(err)
		}
		ops = ops[:0]
	}
	for i := range n {
		ops = append(ops, store.Op{Put: &store.Item{PK: "many", SK: fmt.Sprintf("%05d", i), Version: 1}})
		if len(ops) == store.MaxTransactOps {
			flush()
		}
	}
	flush()
	for _, limit := range []int{0, -1, store.MaxQueryLimit + 1} {
		page, err := s.Query(ctx, store.Query{Index: store.Primary, PK: "many", Limit: limit})
		if err != nil || len(page.Items) != store.MaxQueryLimit || page.Cursor == "" {
			t.Fatalf("limit %d: %d items, cursor %q, %v; want %d items and a cursor", limit, len(page.Items), page.Cursor, err, store.MaxQueryLimit)
		}
	}
	// A page that ends exactly at the last item has no cursor: no empty
	// page follows.
	page, err := s.Query(ctx, store.Query{Index: store.Primary, PK: "many", Limit: 5, SKPrefix: "0000"})
	if err != nil || len(page.Items) != 5 || page.Cursor == "" {
		t.Fatalf("first page: %d items, cursor %q, %v", len(page.Items), page.Cursor, err)
	}
	page, err = s.Query(ctx, store.Query{Index: store.Primary, PK: "many", Limit: 5, SKPrefix: "0000", Cursor: page.Cursor})
	if err != nil || len(page.Items) != 5 || page.Cursor != "" {
		t.Fatalf("last page: %d items, cursor %q, %v; want 5 items and no cursor", len(page.Items), page.Cursor, err)
	}
}

func TestRejectsWhatDynamoDBRejects(t *testing.T) {
	s := openTemp(t, WithSweepInterval(0), WithoutSync())
	ctx := context.Background()
	bad := map[string]store.Item{
		"GSI1PK without GSI1SK": {PK: "p", SK: "s", GSI1PK: "g"},
		"GSI2PK without GSI2SK": {PK: "p", SK: "s", GSI2PK: "g"},
		"GSI3PK without GSI3SK": {PK: "p", SK: "s", GSI3PK: "g"},
		"long GSI3SK":           {PK: "p", SK: "s", GSI3PK: "g", GSI3SK: strings.Repeat("s", maxSortKeyBytes+1)},
		"long PK":               {PK: strings.Repeat("p", maxPartitionKeyBytes+1), SK: "s"},
		"long SK":               {PK: "p", SK: strings.Repeat("s", maxSortKeyBytes+1)},
		"long GSI1SK":           {PK: "p", SK: "s", GSI1PK: "g", GSI1SK: strings.Repeat("s", maxSortKeyBytes+1)},
		"item over 400 KiB":     {PK: "p", SK: "s", Data: make([]byte, maxItemBytes)},
	}
	for name, it := range bad {
		if err := s.Put(ctx, it, store.None); err == nil {
			t.Errorf("%s: Put succeeded", name)
		}
	}
	if items, _ := s.Scan(ctx); len(items) != 0 {
		t.Fatalf("refused puts left %d items", len(items))
	}
	// An index sort key without its partition key is just not indexed.
	if err := s.Put(ctx, store.Item{PK: "p", SK: "s", GSI1SK: "orphan"}, store.None); err != nil {
		t.Fatalf("GSI1SK without GSI1PK: %v", err)
	}
}

func TestUnchangedPutAddsNoChange(t *testing.T) {
	s := openTemp(t, WithSweepInterval(0), WithoutSync())
	it := store.Item{PK: "same", SK: "1", Version: 1, Data: []byte("x")}
	put(t, s, it)
	put(t, s, it)
	if err := s.Delete(context.Background(), store.Key{PK: "missing", SK: "1"}, store.None); err != nil {
		t.Fatal(err)
	}
	if n := len(feedLog(t, s)); n != 1 {
		t.Fatalf("%d changes, want 1: rewriting an identical item or deleting a missing one adds none", n)
	}
}

func TestCheckpointNeverMovesBack(t *testing.T) {
	s := openTemp(t, WithSweepInterval(0), WithoutSync())
	if err := s.saveCheckpoint("c", 7); err != nil {
		t.Fatal(err)
	}
	if err := s.saveCheckpoint("c", 3); err != nil {
		t.Fatal(err)
	}
	var got uint64
	s.db.View(func(tx *bolt.Tx) error { got = checkpoint(tx, "c"); return nil })
	if got != 7 {
		t.Fatalf("checkpoint = %d, want 7", got)
	}
}

func BenchmarkPut(b *testing.B) {
	for _, sync := range []bool{true, false} {
		b.Run(fmt.Sprintf("fsync=%v", sync), func(b *testing.B) {
			opts := []Option{WithSweepInterval(0)}
			if !sync {
				opts = append(opts, WithoutSync())
			}
			s := openTemp(b, opts...)
			ctx := context.Background()
			data := bytes.Repeat([]byte("x"), 512)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				it := store.Item{PK: fmt.Sprintf("clinic#%d", i%50), SK: fmt.Sprintf("exam#%08d", i), GSI1PK: "owner", GSI1SK: fmt.Sprint(i), Version: 1, Data: data}
				if err := s.Put(ctx, it, store.IfAbsent); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

func BenchmarkConditionalUpdate(b *testing.B) {
	s := openTemp(b, WithSweepInterval(0), WithoutSync())
	ctx := context.Background()
	it := store.Item{PK: "exam", SK: "1", GSI2PK: "queue#TX", GSI2SK: "1", Version: 1, Data: bytes.Repeat([]byte("x"), 512)}
	if err := s.Put(ctx, it, store.IfAbsent); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		next := it
		next.Version++
		next.GSI2SK = fmt.Sprint(next.Version)
		if err := s.Put(ctx, next, store.IfVersion(it.Version)); err != nil {
			b.Fatal(err)
		}
		it = next
	}
}

func BenchmarkQuery(b *testing.B) {
	s := openTemp(b, WithSweepInterval(0), WithoutSync())
	ctx := context.Background()
	for i := range 2000 {
		it := store.Item{PK: fmt.Sprintf("exam#%d", i), SK: "meta", GSI1PK: fmt.Sprintf("clinic#%d", i%4), GSI1SK: fmt.Sprintf("%06d", i), Version: 1, Data: bytes.Repeat([]byte("x"), 256)}
		if err := s.Put(ctx, it, store.IfAbsent); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		page, err := s.Query(ctx, store.Query{Index: store.ByGSI1, PK: "clinic#1", Limit: 50, Descending: true})
		if err != nil || len(page.Items) != 50 {
			b.Fatalf("Query: %d items, %v", len(page.Items), err)
		}
	}
}
