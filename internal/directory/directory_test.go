package directory

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/goodfaith/goodfaith/internal/fault"
	"github.com/goodfaith/goodfaith/internal/store"
	"github.com/goodfaith/goodfaith/internal/store/boltstore"
)

// countingStore counts reads by primary key.
type countingStore struct {
	store.Store
	gets atomic.Int64
}

func (s *countingStore) Get(ctx context.Context, k store.Key) (store.Item, error) {
	s.gets.Add(1)
	return s.Store.Get(ctx, k)
}

func openDirectory(t *testing.T) (Directory, *countingStore) {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	counted := &countingStore{Store: st}
	return Directory{Store: counted}, counted
}

func wantKeyNotFound(t *testing.T, what string, c Clinic, err error) {
	t.Helper()
	var fe *fault.Error
	if !errors.Is(err, fault.ErrNotFound) || !errors.As(err, &fe) || fe.Code != "key_not_found" {
		t.Errorf("%s resolved to %q, %v; want key_not_found", what, c.ID, err)
	}
}

// A key resolves in one read; replacing a clinic's keys revokes the old
// ones at once, and the new ones see the clinic as last written.
func TestReplacedKeysStopResolving(t *testing.T) {
	d, counted := openDirectory(t)
	ctx := context.Background()
	glow := Clinic{ID: "clinic_glow", Name: "Glow", PublishableKey: "pk_old", SecretKeyHash: "hash_old"}
	if err := d.PutClinic(ctx, glow); err != nil {
		t.Fatal(err)
	}
	before := counted.gets.Load()
	if c, err := d.ClinicByPublishableKey(ctx, "pk_old"); err != nil || c.ID != glow.ID || c.Name != "Glow" {
		t.Fatalf("publishable key: %+v, %v", c, err)
	}
	if n := counted.gets.Load() - before; n != 1 {
		t.Errorf("resolving a key took %d reads; want 1", n)
	}
	if c, err := d.ClinicBySecretKeyHash(ctx, "hash_old"); err != nil || c.ID != glow.ID {
		t.Fatalf("secret key: %+v, %v", c, err)
	}

	glow.PublishableKey, glow.SecretKeyHash, glow.Name = "pk_new", "hash_new", "Glow Med Spa"
	if err := d.PutClinic(ctx, glow); err != nil {
		t.Fatal(err)
	}
	c, err := d.ClinicByPublishableKey(ctx, "pk_old")
	wantKeyNotFound(t, "the replaced publishable key", c, err)
	c, err = d.ClinicBySecretKeyHash(ctx, "hash_old")
	wantKeyNotFound(t, "the replaced secret key", c, err)
	for _, old := range []store.Key{publishableKey("pk_old"), secretKey("hash_old")} {
		if _, err := counted.Store.Get(ctx, old); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("record %v of a replaced key: %v; want it deleted", old, err)
		}
	}
	if c, err := d.ClinicByPublishableKey(ctx, "pk_new"); err != nil || c.Name != "Glow Med Spa" {
		t.Errorf("new publishable key: %+v, %v", c, err)
	}
	if c, err := d.ClinicBySecretKeyHash(ctx, "hash_new"); err != nil || c.Name != "Glow Med Spa" {
		t.Errorf("new secret key: %+v, %v", c, err)
	}
	// Writing the same clinic again (a seed loaded twice) keeps its keys.
	if err := d.PutClinic(ctx, glow); err != nil {
		t.Fatal(err)
	}
	if c, err := d.ClinicByPublishableKey(ctx, "pk_new"); err != nil || c.ID != glow.ID {
		t.Errorf("after an identical write: %+v, %v", c, err)
	}
}

// Key records written by an older build hold only the clinic id: they
// resolve through the clinic record, and only while the clinic still has
// the key (an older build left replaced keys' records behind).
func TestOlderKeyRecordsResolveOnlyWhileCurrent(t *testing.T) {
	d, counted := openDirectory(t)
	ctx := context.Background()
	glow := Clinic{ID: "clinic_glow", Name: "Glow", PublishableKey: "pk_now", SecretKeyHash: "hash_now"}
	if err := d.PutClinic(ctx, glow); err != nil {
		t.Fatal(err)
	}
	for _, k := range []store.Key{publishableKey("pk_now"), publishableKey("pk_left_behind"), secretKey("hash_left_behind")} {
		if err := counted.Store.Put(ctx, store.Item{PK: k.PK, SK: k.SK, Version: 1, Data: []byte(`{"clinic_id":"clinic_glow"}`)}, store.None); err != nil {
			t.Fatal(err)
		}
	}
	if c, err := d.ClinicByPublishableKey(ctx, "pk_now"); err != nil || c.ID != glow.ID {
		t.Errorf("an older record of the current key: %+v, %v", c, err)
	}
	c, err := d.ClinicByPublishableKey(ctx, "pk_left_behind")
	wantKeyNotFound(t, "an older record of a replaced publishable key", c, err)
	c, err = d.ClinicBySecretKeyHash(ctx, "hash_left_behind")
	wantKeyNotFound(t, "an older record of a replaced secret key", c, err)
}

// Two writers replacing a clinic's keys at once leave the keys of exactly
// one of them working.
func TestConcurrentKeyReplacementsLeaveOneKeySet(t *testing.T) {
	d, _ := openDirectory(t)
	ctx := context.Background()
	if err := d.PutClinic(ctx, Clinic{ID: "clinic_glow", PublishableKey: "pk_0", SecretKeyHash: "hash_0"}); err != nil {
		t.Fatal(err)
	}
	for round := range 10 {
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for w := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[w] = d.PutClinic(ctx, Clinic{ID: "clinic_glow", PublishableKey: fmt.Sprintf("pk_%d_%d", round, w), SecretKeyHash: fmt.Sprintf("hash_%d_%d", round, w)})
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		final, err := d.Clinic(ctx, "clinic_glow")
		if err != nil {
			t.Fatal(err)
		}
		resolving := 0
		for r := 0; r <= round; r++ {
			for w := range 2 {
				pk := fmt.Sprintf("pk_%d_%d", r, w)
				if _, err := d.ClinicByPublishableKey(ctx, pk); err == nil {
					resolving++
					if pk != final.PublishableKey {
						t.Errorf("round %d: %s resolves, but the clinic holds %s", round, pk, final.PublishableKey)
					}
				}
			}
		}
		if resolving != 1 {
			t.Errorf("round %d: %d publishable keys resolve; want exactly the clinic's one", round, resolving)
		}
	}
}
