package directory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/goodfaith/goodfaith/internal/fault"
	"github.com/goodfaith/goodfaith/internal/rules"
	"github.com/goodfaith/goodfaith/internal/store"
)

// Clinic is a paying tenant.
type Clinic struct {
	ID             string              `json:"id"`
	Name           string              `json:"name"`
	PublishableKey string              `json:"publishable_key"`
	SecretKeyHash  string              `json:"secret_key_hash"`
	AllowedOrigins []string            `json:"allowed_origins"`
	PriceCents     int64               `json:"price_cents"`
	Treatments     []string            `json:"treatments"`
	Timezone       string              `json:"timezone,omitempty"`
	Hours          map[string][]string `json:"hours,omitempty"`
	Branding       map[string]string   `json:"branding,omitempty"`
	Languages      []string            `json:"languages,omitempty"`
}

// OriginAllowed reports whether a browser Origin may use the clinic's
// publishable key. An empty origin is a server-side caller (no browser) and
// is allowed: the allowlist protects the key from other websites, not from
// its owner.
func (c Clinic) OriginAllowed(origin string) bool {
	return origin == "" || slices.Contains(c.AllowedOrigins, origin)
}

// Offers reports whether the clinic offers a treatment category.
func (c Clinic) Offers(category string) bool { return slices.Contains(c.Treatments, category) }

// License is a state licence of a provider.
type License struct {
	State   string            `json:"state"`
	Type    rules.LicenseType `json:"type"`
	Number  string            `json:"number"`
	Expires string            `json:"expires"` // YYYY-MM-DD, last valid day
}

// ActiveOn reports whether the licence is valid on the day of t.
func (l License) ActiveOn(t time.Time) bool {
	exp, err := time.Parse(time.DateOnly, l.Expires)
	if err != nil {
		return false
	}
	return !t.UTC().Truncate(24 * time.Hour).After(exp)
}

// DEARegistration is a DEA registration for one state.
type DEARegistration struct {
	State   string `json:"state"`
	Number  string `json:"number"`
	Expires string `json:"expires"`
}

// Provider is a clinician who reviews exams and signs orders.
type Provider struct {
	ID               string            `json:"id"`
	Name             string            `json:"name"`
	Credential       string            `json:"credential"`
	NPI              string            `json:"npi"`
	Licenses         []License         `json:"licenses"`
	Categories       []string          `json:"categories"`
	DEARegistrations []DEARegistration `json:"dea_registrations,omitempty"`
}

// LicenseIn returns the provider's active licence in state on day t.
func (p Provider) LicenseIn(state string, t time.Time) (License, bool) {
	for _, l := range p.Licenses {
		if l.State == state && l.ActiveOn(t) {
			return l, true
		}
	}
	return License{}, false
}

// DEAIn returns the provider's active DEA registration in state on day t.
func (p Provider) DEAIn(state string, t time.Time) (DEARegistration, bool) {
	for _, d := range p.DEARegistrations {
		if d.State == state && (License{Expires: d.Expires}).ActiveOn(t) {
			return d, true
		}
	}
	return DEARegistration{}, false
}

// Keys of directory records in the single table.
func clinicKey(id string) store.Key      { return store.Key{PK: "CLINIC#" + id, SK: "CLINIC"} }
func providerKey(id string) store.Key    { return store.Key{PK: "PROVIDER#" + id, SK: "PROVIDER"} }
func publishableKey(pk string) store.Key { return store.Key{PK: "PUBKEY#" + pk, SK: "KEY"} }
func secretKey(hash string) store.Key    { return store.Key{PK: "SECRETKEY#" + hash, SK: "KEY"} }

// keyRef is a key record: the clinic a key belongs to, and a copy of the
// clinic as PutClinic wrote it with the key, so that resolving a key (every
// widget and clinic-server request) is one read, not two. Key records of
// older builds carry no copy; the clinic is then read by id.
type keyRef struct {
	ClinicID string  `json:"clinic_id"`
	Clinic   *Clinic `json:"clinic,omitempty"`
}

// Directory reads and writes clinics and providers.
type Directory struct {
	Store store.Store
}

// Clinic returns a clinic by id.
func (d Directory) Clinic(ctx context.Context, id string) (Clinic, error) {
	var c Clinic
	return c, d.get(ctx, clinicKey(id), &c, "clinic_not_found")
}

// Provider returns a provider by id.
func (d Directory) Provider(ctx context.Context, id string) (Provider, error) {
	var p Provider
	return p, d.get(ctx, providerKey(id), &p, "provider_not_found")
}

// ClinicByPublishableKey resolves a widget's key.
func (d Directory) ClinicByPublishableKey(ctx context.Context, pk string) (Clinic, error) {
	return d.clinicByRef(ctx, publishableKey(pk), func(c Clinic) bool { return c.PublishableKey == pk })
}

// ClinicBySecretKeyHash resolves a clinic server's key (hashed by the caller).
func (d Directory) ClinicBySecretKeyHash(ctx context.Context, hash string) (Clinic, error) {
	return d.clinicByRef(ctx, secretKey(hash), func(c Clinic) bool { return c.SecretKeyHash == hash })
}

// clinicByRef resolves the key record k to its clinic, which must still
// hold the key (current): a key the clinic no longer has — replaced in a
// new seed, its record left behind by an older build — resolves to
// nothing, so replacing a leaked key revokes it.
func (d Directory) clinicByRef(ctx context.Context, k store.Key, current func(Clinic) bool) (Clinic, error) {
	var ref keyRef
	if err := d.get(ctx, k, &ref, "key_not_found"); err != nil {
		return Clinic{}, err
	}
	c := ref.Clinic
	if c == nil {
		byID, err := d.Clinic(ctx, ref.ClinicID)
		if err != nil {
			return Clinic{}, err
		}
		c = &byID
	}
	if c.ID != ref.ClinicID || !current(*c) {
		return Clinic{}, fault.NotFound("key_not_found", "not found")
	}
	return *c, nil
}

func (d Directory) get(ctx context.Context, k store.Key, into any, code string) error {
	it, err := d.Store.Get(ctx, k)
	if errors.Is(err, store.ErrNotFound) {
		return fault.NotFound(code, "not found")
	}
	if err != nil {
		return err
	}
	return json.Unmarshal(it.Data, into)
}

// PutClinic writes a clinic whole, keys included (the seed), with its key
// records, replacing what was there (seeding is idempotent), and deletes
// the records of keys it no longer has, so a replaced key stops working at
// once. A key another clinic holds is refused (409 key_in_use). See
// writeClinic for how writers at once are kept apart.
func (d Directory) PutClinic(ctx context.Context, c Clinic) error {
	_, err := d.writeClinic(ctx, c.ID, func(Clinic, bool) (Clinic, error) { return c, nil })
	return err
}

// UpdateClinic changes the clinic's settings: change gets the clinic as
// stored and edits it (its error is returned, nothing written). The keys
// stay the stored ones whatever change does, so a settings write racing a
// key rotation can never bring a replaced key back. It returns the clinic
// as written.
func (d Directory) UpdateClinic(ctx context.Context, id string, change func(*Clinic) error) (Clinic, error) {
	return d.writeClinic(ctx, id, func(stored Clinic, exists bool) (Clinic, error) {
		if !exists {
			return Clinic{}, fault.NotFound("clinic_not_found", "not found")
		}
		next := stored
		if err := change(&next); err != nil {
			return Clinic{}, err
		}
		next.ID, next.PublishableKey, next.SecretKeyHash = stored.ID, stored.PublishableKey, stored.SecretKeyHash
		return next, nil
	})
}

// writeClinic reads clinic id, asks next for the clinic to write (given
// the stored one, and whether there is one), and writes it with its key
// records in one transaction that holds only if the clinic record and the
// key records are still as read (transactCAS).
func (d Directory) writeClinic(ctx context.Context, id string, next func(stored Clinic, exists bool) (Clinic, error)) (Clinic, error) {
	var written Clinic
	err := d.transactCAS(ctx, "clinic_changed", func() ([]store.Op, error) {
		var stored Clinic
		version, err := d.readRecord(ctx, clinicKey(id), &stored)
		if err != nil {
			return nil, err
		}
		if written, err = next(stored, version > 0); err != nil {
			return nil, err
		}
		return d.clinicOps(ctx, written, stored, version)
	})
	return written, err
}

// transactCAS commits the ops that plan makes from what it reads, each
// conditioned on the records as read (casCond): a writer that loses a race
// with another reads again and retries, and after casRetries answers 409
// with code.
func (d Directory) transactCAS(ctx context.Context, code string, plan func() ([]store.Op, error)) error {
	for attempt := 0; ; attempt++ {
		ops, err := plan()
		if err != nil {
			return err
		}
		err = d.Store.Transact(ctx, ops...)
		switch {
		case !errors.Is(err, store.ErrConditionFailed):
			return err
		case attempt == casRetries:
			return fault.Conflict(code, "the record changed while it was being written; try again")
		}
	}
}

// casRetries bounds how often a directory write (writeClinic,
// PutDirector) reads again after losing a race with another writer of the
// same record.
const casRetries = 3

// readRecord reads record k into into and returns its version; 0 when
// there is none (into is left as it is).
func (d Directory) readRecord(ctx context.Context, k store.Key, into any) (int64, error) {
	it, err := d.Store.Get(ctx, k)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return 0, nil
	case err != nil:
		return 0, err
	}
	if err := json.Unmarshal(it.Data, into); err != nil {
		return 0, fmt.Errorf("directory: %s %s: %w", k.PK, k.SK, err)
	}
	return it.Version, nil
}

// casCond is the condition of a write over a record read at version (0:
// none): that it is still so.
func casCond(version int64) store.Condition {
	if version == 0 {
		return store.IfAbsent
	}
	return store.IfVersion(version)
}

// clinicOps are the writes of c over stored (whose record has version;
// 0: none): the clinic one version on, the records of its keys (each
// carrying a copy of c), and the deletion of the records of the keys
// stored had, each conditioned on the record as read.
func (d Directory) clinicOps(ctx context.Context, c, stored Clinic, version int64) ([]store.Op, error) {
	data, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	ref, err := json.Marshal(keyRef{ClinicID: c.ID, Clinic: &c})
	if err != nil {
		return nil, err
	}
	k := clinicKey(c.ID)
	item := store.Item{PK: k.PK, SK: k.SK, Version: version + 1, Data: data, GSI1PK: "CLINICS", GSI1SK: c.ID}
	ops := []store.Op{{Put: &item, Cond: casCond(version)}}
	checked := map[string]bool{} // owners whose records the transaction checks (once each)
	for _, key := range []struct {
		now, before string
		record      func(string) store.Key
		holds       func(Clinic, string) bool
	}{
		{c.PublishableKey, stored.PublishableKey, publishableKey, func(o Clinic, k string) bool { return o.PublishableKey == k }},
		{c.SecretKeyHash, stored.SecretKeyHash, secretKey, func(o Clinic, k string) bool { return o.SecretKeyHash == k }},
	} {
		if key.now != "" {
			owner, v, err := d.keyOwner(ctx, key.record(key.now))
			if err != nil {
				return nil, err
			}
			if v > 0 && owner != c.ID {
				// A record another clinic's key left behind (older builds
				// kept replaced keys' records) is taken over, on condition
				// that the owner is still as read: it no longer holds the key.
				var o Clinic
				ov, err := d.readRecord(ctx, clinicKey(owner), &o)
				if err != nil {
					return nil, err
				}
				if ov > 0 && key.holds(o, key.now) {
					return nil, fault.Conflict("key_in_use", "another clinic holds this key")
				}
				if !checked[owner] {
					checked[owner] = true
					ok := clinicKey(owner)
					ops = append(ops, store.Op{Check: &ok, Cond: casCond(ov)})
				}
			}
			r := key.record(key.now)
			ops = append(ops, store.Op{Put: &store.Item{PK: r.PK, SK: r.SK, Version: v + 1, Data: ref}, Cond: casCond(v)})
		}
		if key.before != "" && key.before != key.now {
			owner, v, err := d.keyOwner(ctx, key.record(key.before))
			if err != nil {
				return nil, err
			}
			if v > 0 && owner == c.ID { // never another clinic's record
				r := key.record(key.before)
				ops = append(ops, store.Op{Delete: &r, Cond: store.IfVersion(v)})
			}
		}
	}
	return ops, nil
}

// keyOwner reads key record k: the clinic it names and its version (0:
// no record).
func (d Directory) keyOwner(ctx context.Context, k store.Key) (string, int64, error) {
	var ref keyRef
	v, err := d.readRecord(ctx, k, &ref)
	return ref.ClinicID, v, err
}

// PutProvider writes a provider, replacing what was there.
func (d Directory) PutProvider(ctx context.Context, p Provider) error {
	data, err := json.Marshal(p)
	if err != nil {
		return err
	}
	k := providerKey(p.ID)
	return d.Store.Put(ctx, store.Item{PK: k.PK, SK: k.SK, GSI1PK: "PROVIDERS", GSI1SK: p.ID, Version: 1, Data: data}, store.None)
}

// Validate checks a provider record before it is stored.
func (p Provider) Validate(rs *rules.Set) error {
	if p.ID == "" || p.Name == "" {
		return fmt.Errorf("provider: id and name are required")
	}
	for _, l := range p.Licenses {
		if !rs.KnownState(l.State) {
			return fmt.Errorf("provider %s: licence state %q unknown", p.ID, l.State)
		}
		if _, err := time.Parse(time.DateOnly, l.Expires); err != nil {
			return fmt.Errorf("provider %s: licence %s expiry %q is not YYYY-MM-DD", p.ID, l.Number, l.Expires)
		}
		switch l.Type {
		case rules.MD, rules.DO, rules.NP, rules.PA, rules.RN:
		default:
			return fmt.Errorf("provider %s: licence type %q unknown", p.ID, l.Type)
		}
	}
	for _, c := range p.Categories {
		if !rs.KnownCategory(c) {
			return fmt.Errorf("provider %s: category %q unknown", p.ID, c)
		}
	}
	return nil
}

// Validate checks a clinic record before it is stored.
func (c Clinic) Validate(rs *rules.Set) error {
	if c.ID == "" || c.Name == "" {
		return fmt.Errorf("clinic: id and name are required")
	}
	for _, t := range c.Treatments {
		if !rs.KnownCategory(t) {
			return fmt.Errorf("clinic %s: treatment %q unknown", c.ID, t)
		}
	}
	if c.Timezone != "" {
		if _, err := time.LoadLocation(c.Timezone); err != nil {
			return fmt.Errorf("clinic %s: timezone %q: %w", c.ID, c.Timezone, err)
		}
	}
	if c.PriceCents < 0 {
		return fmt.Errorf("clinic %s: negative price", c.ID)
	}
	return nil
}
