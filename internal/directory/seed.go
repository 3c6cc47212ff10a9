package directory

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/goodfaith/goodfaith/internal/fault"
	"github.com/goodfaith/goodfaith/internal/rules"
)

// Seed is the -seed file of the local server (see API.md).
type Seed struct {
	Clinics          []SeedClinic      `json:"clinics"`
	Providers        []Provider        `json:"providers"`
	MedicalDirectors []MedicalDirector `json:"medical_directors,omitempty"` // directors.go
}

// SeedClinic is a clinic as written in a seed file: with its secret key in
// clear, which is hashed before it is stored.
type SeedClinic struct {
	Clinic
	SecretKey string `json:"secret_key"`
}

// DefaultPriceCents is a clinic's price per exam when none is set.
const DefaultPriceCents = 2799

// ParseSeed reads a seed file strictly.
func ParseSeed(data []byte) (Seed, error) {
	var s Seed
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return Seed{}, fmt.Errorf("seed: %w", err)
	}
	return s, nil
}

// Load writes every clinic, provider and medical director of the seed. Loading the same seed
// twice leaves the same records.
func (d Directory) Load(ctx context.Context, s Seed, rs *rules.Set, hashSecret func(string) string) error {
	clinics := make([]Clinic, 0, len(s.Clinics))
	for _, sc := range s.Clinics {
		c := sc.Clinic
		if sc.SecretKey != "" {
			c.SecretKeyHash = hashSecret(sc.SecretKey)
		}
		if c.PriceCents == 0 {
			c.PriceCents = DefaultPriceCents
		}
		clinics = append(clinics, c)
	}
	if err := checkKeysUnique(clinics); err != nil {
		return err
	}
	for _, c := range clinics {
		if err := c.Validate(rs); err != nil {
			return err
		}
	}
	if err := d.putClinics(ctx, clinics); err != nil {
		return err
	}
	for _, p := range s.Providers {
		if err := p.Validate(rs); err != nil {
			return err
		}
		if err := d.PutProvider(ctx, p); err != nil {
			return fmt.Errorf("seed provider %s: %w", p.ID, err)
		}
	}
	for _, m := range s.MedicalDirectors {
		if err := m.Validate(); err != nil {
			return err
		}
		if err := d.PutDirector(ctx, m); err != nil {
			return fmt.Errorf("seed medical director %s: %w", m.ID, err)
		}
	}
	return nil
}

// checkKeysUnique refuses a seed in which two clinics share a publishable
// key or a secret key (compared as stored: hashed), before anything is
// written.
func checkKeysUnique(clinics []Clinic) error {
	pks, sks := map[string]string{}, map[string]string{}
	for _, c := range clinics {
		for _, k := range []struct {
			value, what string
			seen        map[string]string
		}{{c.PublishableKey, "publishable_key", pks}, {c.SecretKeyHash, "secret key", sks}} {
			if k.value == "" {
				continue
			}
			if other, dup := k.seen[k.value]; dup && other != c.ID {
				return fmt.Errorf("seed: clinics %s and %s have the same %s", other, c.ID, k.what)
			}
			k.seen[k.value] = c.ID
		}
	}
	return nil
}

// putClinics writes the seed's clinics. A clinic refused because another
// clinic still holds its key is tried again after the others, so a seed
// that moves a key from one clinic to another loads in any order; what
// stays refused once a pass writes nothing more is the error.
func (d Directory) putClinics(ctx context.Context, clinics []Clinic) error {
	for len(clinics) > 0 {
		var refused []Clinic
		var errs []error
		for _, c := range clinics {
			err := d.PutClinic(ctx, c)
			var fe *fault.Error
			switch {
			case errors.As(err, &fe) && fe.Code == "key_in_use":
				refused = append(refused, c)
				errs = append(errs, fmt.Errorf("seed clinic %s: %w", c.ID, err))
			case err != nil:
				return fmt.Errorf("seed clinic %s: %w", c.ID, err)
			}
		}
		if len(refused) == len(clinics) {
			return errors.Join(errs...)
		}
		clinics = refused
	}
	return nil
}
