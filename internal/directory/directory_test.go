package directory

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/goodfaith/goodfaith/internal/fault"
	"github.com/goodfaith/goodfaith/internal/rules"
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

// A settings write changes the settings of the clinic as stored, never its
// keys: not when the change tries to, and not when a key rotation lands
// between its read and its write (it reads again and keeps the new keys).
func TestSettingsWritesNeverBringBackAReplacedKey(t *testing.T) {
	d, _ := openDirectory(t)
	ctx := context.Background()
	if err := d.PutClinic(ctx, Clinic{ID: "clinic_glow", Name: "Glow", PublishableKey: "pk_leaked", SecretKeyHash: "hash_leaked"}); err != nil {
		t.Fatal(err)
	}
	rotated := false
	got, err := d.UpdateClinic(ctx, "clinic_glow", func(c *Clinic) error {
		if !rotated { // the operator re-seeds new keys meanwhile
			rotated = true
			if err := d.PutClinic(ctx, Clinic{ID: "clinic_glow", Name: "Glow", PublishableKey: "pk_new", SecretKeyHash: "hash_new"}); err != nil {
				return err
			}
		}
		c.Timezone = "America/Chicago"
		c.PublishableKey, c.SecretKeyHash = "pk_attacker", "hash_attacker"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.PublishableKey != "pk_new" || got.SecretKeyHash != "hash_new" || got.Timezone != "America/Chicago" {
		t.Fatalf("written %+v; want the new keys and the new time zone", got)
	}
	for _, old := range []string{"pk_leaked", "pk_attacker"} {
		c, err := d.ClinicByPublishableKey(ctx, old)
		wantKeyNotFound(t, old, c, err)
	}
	for _, old := range []string{"hash_leaked", "hash_attacker"} {
		c, err := d.ClinicBySecretKeyHash(ctx, old)
		wantKeyNotFound(t, old, c, err)
	}
	if c, err := d.ClinicBySecretKeyHash(ctx, "hash_new"); err != nil || c.Timezone != "America/Chicago" {
		t.Errorf("the new secret key: %+v, %v", c, err)
	}
	if _, err := d.UpdateClinic(ctx, "clinic_none", func(*Clinic) error { return nil }); !errors.Is(err, fault.ErrNotFound) {
		t.Errorf("updating a clinic that does not exist: %v", err)
	}
	refused := errors.New("refused")
	if _, err := d.UpdateClinic(ctx, "clinic_glow", func(c *Clinic) error { c.Timezone = "UTC"; return refused }); !errors.Is(err, refused) {
		t.Errorf("a change that refuses: %v", err)
	}
	if c, _ := d.Clinic(ctx, "clinic_glow"); c.Timezone != "America/Chicago" {
		t.Errorf("a refused change was written: %+v", c)
	}
}

// A key another clinic holds is refused and left with that clinic, and a
// clinic never deletes another clinic's key record, even one its own old
// record names.
func TestAnotherClinicsKeyIsNeitherTakenNorDeleted(t *testing.T) {
	d, counted := openDirectory(t)
	ctx := context.Background()
	if err := d.PutClinic(ctx, Clinic{ID: "clinic_a", PublishableKey: "pk_shared"}); err != nil {
		t.Fatal(err)
	}
	err := d.PutClinic(ctx, Clinic{ID: "clinic_b", PublishableKey: "pk_shared"})
	var fe *fault.Error
	if !errors.Is(err, fault.ErrConflict) || !errors.As(err, &fe) || fe.Code != "key_in_use" {
		t.Fatalf("clinic_b taking clinic_a's key: %v; want 409 key_in_use", err)
	}
	if _, err := d.Clinic(ctx, "clinic_b"); !errors.Is(err, fault.ErrNotFound) {
		t.Errorf("clinic_b was written although its key was refused: %v", err)
	}
	if c, err := d.ClinicByPublishableKey(ctx, "pk_shared"); err != nil || c.ID != "clinic_a" {
		t.Errorf("pk_shared: %+v, %v; want clinic_a's", c, err)
	}
	// clinic_c's stored record still names pk_shared (left so by an older
	// build): moving clinic_c to a new key must not delete clinic_a's record.
	k := clinicKey("clinic_c")
	if err := counted.Store.Put(ctx, store.Item{PK: k.PK, SK: k.SK, Version: 1, Data: []byte(`{"id":"clinic_c","publishable_key":"pk_shared"}`), GSI1PK: "CLINICS", GSI1SK: "clinic_c"}, store.None); err != nil {
		t.Fatal(err)
	}
	if err := d.PutClinic(ctx, Clinic{ID: "clinic_c", PublishableKey: "pk_c"}); err != nil {
		t.Fatal(err)
	}
	if c, err := d.ClinicByPublishableKey(ctx, "pk_shared"); err != nil || c.ID != "clinic_a" {
		t.Errorf("pk_shared after clinic_c moved: %+v, %v; want clinic_a's record kept", c, err)
	}
}

// A seed in which two clinics share a key is refused before anything is
// written.
func TestSeedWithASharedKeyWritesNothing(t *testing.T) {
	d, _ := openDirectory(t)
	ctx := context.Background()
	for _, s := range []Seed{
		{Clinics: []SeedClinic{{Clinic: Clinic{ID: "clinic_a", PublishableKey: "pk_same"}}, {Clinic: Clinic{ID: "clinic_b", PublishableKey: "pk_same"}}}},
		{Clinics: []SeedClinic{{Clinic: Clinic{ID: "clinic_a", PublishableKey: "pk_a"}, SecretKey: "sk_same"}, {Clinic: Clinic{ID: "clinic_b", PublishableKey: "pk_b"}, SecretKey: "sk_same"}}},
	} {
		err := d.Load(ctx, s, nil, func(k string) string { return "hash:" + k })
		if err == nil || !strings.Contains(err.Error(), "clinic_a and clinic_b") {
			t.Errorf("seed %+v: %v; want it refused naming both clinics", s, err)
		}
		if _, err := d.Clinic(ctx, "clinic_a"); !errors.Is(err, fault.ErrNotFound) {
			t.Errorf("clinic_a was written from a refused seed: %v", err)
		}
	}
}

// A clinic's directors are listed in one query (each index item carries
// the director); a director who stops serving a clinic leaves its list at
// once, and an index item of an older build (no copy) still resolves, only
// while the director serves the clinic.
func TestClinicDirectorsInOneQuery(t *testing.T) {
	d, counted := openDirectory(t)
	ctx := context.Background()
	md := MedicalDirector{ID: "md_1", Name: "Dr One", Credential: "MD", Clinics: []string{"clinic_a", "clinic_b", "clinic_a"}}
	if err := d.PutDirector(ctx, md); err != nil {
		t.Fatal(err)
	}
	before := counted.gets.Load()
	got, err := d.ClinicDirectors(ctx, "clinic_a")
	if err != nil || len(got) != 1 || got[0].Name != "Dr One" {
		t.Fatalf("clinic_a's directors: %+v, %v", got, err)
	}
	if n := counted.gets.Load() - before; n != 0 {
		t.Errorf("listing the directors read %d director records; want none (the index items carry them)", n)
	}
	md.Name, md.Clinics = "Dr One, MD", []string{"clinic_b"}
	if err := d.PutDirector(ctx, md); err != nil {
		t.Fatal(err)
	}
	if got, err := d.ClinicDirectors(ctx, "clinic_a"); err != nil || len(got) != 0 {
		t.Errorf("clinic_a after the director left: %+v, %v; want none", got, err)
	}
	if got, err := d.ClinicDirectors(ctx, "clinic_b"); err != nil || len(got) != 1 || got[0].Name != "Dr One, MD" {
		t.Errorf("clinic_b: %+v, %v; want the director as last written", got, err)
	}
	// Older builds wrote "{}" index items and left them when a director
	// left a clinic.
	for _, c := range []string{"clinic_a", "clinic_b"} {
		k := clinicDirectorKey(c, md.ID)
		if err := counted.Store.Put(ctx, store.Item{PK: k.PK, SK: k.SK, Version: 1, Data: []byte(`{}`)}, store.None); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := d.ClinicDirectors(ctx, "clinic_a"); err != nil || len(got) != 0 {
		t.Errorf("a stale older index item of clinic_a: %+v, %v; want none", got, err)
	}
	if got, err := d.ClinicDirectors(ctx, "clinic_b"); err != nil || len(got) != 1 || got[0].ID != md.ID {
		t.Errorf("an older index item of clinic_b: %+v, %v; want the director", got, err)
	}
}

// Two clinics claiming one key at once: exactly one gets it.
func TestConcurrentClaimsOfOneKeyLeaveOneOwner(t *testing.T) {
	d, _ := openDirectory(t)
	ctx := context.Background()
	for round := range 20 {
		pk := fmt.Sprintf("pk_race_%d", round)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for w := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[w] = d.PutClinic(ctx, Clinic{ID: fmt.Sprintf("c_%d_%d", round, w), PublishableKey: pk})
			}()
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) {
			t.Fatalf("round %d: both or neither took the key: %v", round, errs)
		}
		winner := fmt.Sprintf("c_%d_%d", round, map[bool]int{true: 0, false: 1}[errs[0] == nil])
		if c, err := d.ClinicByPublishableKey(ctx, pk); err != nil || c.ID != winner {
			t.Fatalf("round %d: %s resolves to %q, %v; want %s", round, pk, c.ID, err, winner)
		}
	}
}

// Two writes of one director at once: each clinic lists the director
// exactly when the stored record directs it.
func TestConcurrentDirectorWritesLeaveNoStaleCopy(t *testing.T) {
	d, _ := openDirectory(t)
	ctx := context.Background()
	for round := range 20 {
		id := fmt.Sprintf("md_%d", round)
		if err := d.PutDirector(ctx, MedicalDirector{ID: id, Name: "n", Credential: "MD", Clinics: []string{"x"}}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for _, clinics := range [][]string{{"x", "y"}, {"z"}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := d.PutDirector(ctx, MedicalDirector{ID: id, Name: "n", Credential: "MD", Clinics: clinics}); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		m, err := d.Director(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []string{"x", "y", "z"} {
			ds, err := d.ClinicDirectors(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			listed := slices.ContainsFunc(ds, func(x MedicalDirector) bool { return x.ID == id })
			if listed != m.Directs(c) {
				t.Fatalf("round %d: clinic %s lists the director: %v; the record directs %v", round, c, listed, m.Clinics)
			}
		}
	}
}

// A key record an older build left behind for a clinic that no longer
// holds the key is taken over by the clinic that now gets the key; a key
// its owner still holds is refused.
func TestLeftBehindKeyRecordIsTakenOver(t *testing.T) {
	d, counted := openDirectory(t)
	ctx := context.Background()
	if err := d.PutClinic(ctx, Clinic{ID: "clinic_old", PublishableKey: "pk_now"}); err != nil {
		t.Fatal(err)
	}
	left := publishableKey("pk_reused")
	if err := counted.Store.Put(ctx, store.Item{PK: left.PK, SK: left.SK, Version: 1, Data: []byte(`{"clinic_id":"clinic_old"}`)}, store.None); err != nil {
		t.Fatal(err)
	}
	if err := d.PutClinic(ctx, Clinic{ID: "clinic_new", PublishableKey: "pk_reused"}); err != nil {
		t.Fatalf("taking over a left-behind record: %v", err)
	}
	if c, err := d.ClinicByPublishableKey(ctx, "pk_reused"); err != nil || c.ID != "clinic_new" {
		t.Errorf("pk_reused: %+v, %v; want clinic_new", c, err)
	}
	err := d.PutClinic(ctx, Clinic{ID: "clinic_third", PublishableKey: "pk_now"})
	var fe *fault.Error
	if !errors.As(err, &fe) || fe.Code != "key_in_use" {
		t.Errorf("taking a key its owner holds: %v; want key_in_use", err)
	}
}

// A seed that moves a key from one clinic to another loads whatever the
// order of the clinics; clinics sharing a secret key, compared hashed, are
// refused; a director of too many clinics is refused.
func TestSeedMovesKeysAndChecksHashes(t *testing.T) {
	d, _ := openDirectory(t)
	ctx := context.Background()
	hash := func(k string) string { return "hash:" + k }
	clinic := func(id, pk string) SeedClinic {
		return SeedClinic{Clinic: Clinic{ID: id, Name: id, PublishableKey: pk, Treatments: []string{"neurotoxin"}}}
	}
	first := Seed{Clinics: []SeedClinic{clinic("clinic_a", "pk_moving"), clinic("clinic_b", "pk_b")}}
	rs := rules.Default()
	if err := d.Load(ctx, first, rs, hash); err != nil {
		t.Fatal(err)
	}
	// clinic_b takes pk_moving and is listed before clinic_a, who gives it up.
	moved := Seed{Clinics: []SeedClinic{clinic("clinic_b", "pk_moving"), clinic("clinic_a", "pk_a")}}
	if err := d.Load(ctx, moved, rs, hash); err != nil {
		t.Fatalf("a seed moving a key: %v", err)
	}
	if c, err := d.ClinicByPublishableKey(ctx, "pk_moving"); err != nil || c.ID != "clinic_b" {
		t.Errorf("pk_moving: %+v, %v; want clinic_b", c, err)
	}
	hashed := Seed{Clinics: []SeedClinic{{Clinic: Clinic{ID: "clinic_c", SecretKeyHash: "hash:sk_same"}}, {Clinic: Clinic{ID: "clinic_d"}, SecretKey: "sk_same"}}}
	if err := d.Load(ctx, hashed, rs, hash); err == nil || !strings.Contains(err.Error(), "clinic_c and clinic_d") {
		t.Errorf("two clinics with one secret key (one given hashed): %v", err)
	}
	var many []string
	for i := range MaxDirectorClinics + 1 {
		many = append(many, fmt.Sprintf("clinic_%d", i))
	}
	if err := (MedicalDirector{ID: "md_busy", Name: "Busy", Credential: "MD", Clinics: many}).Validate(); err == nil {
		t.Errorf("a director of %d clinics was accepted", len(many))
	}
}
