package directory

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

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
	if err := s.checkKeysUnique(); err != nil {
		return err
	}
	for _, sc := range s.Clinics {
		c := sc.Clinic
		if sc.SecretKey != "" {
			c.SecretKeyHash = hashSecret(sc.SecretKey)
		}
		if c.PriceCents == 0 {
			c.PriceCents = DefaultPriceCents
		}
		if err := c.Validate(rs); err != nil {
			return err
		}
		if err := d.PutClinic(ctx, c); err != nil {
			return fmt.Errorf("seed clinic %s: %w", c.ID, err)
		}
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
// or secret key, before anything is written (PutClinic would refuse the
// second clinic after writing the first).
func (s Seed) checkKeysUnique() error {
	pks, sks := map[string]string{}, map[string]string{}
	for _, sc := range s.Clinics {
		for _, k := range []struct {
			value, what string
			seen        map[string]string
		}{{sc.PublishableKey, "publishable_key", pks}, {sc.SecretKey, "secret_key", sks}} {
			if k.value == "" {
				continue
			}
			if other, dup := k.seen[k.value]; dup && other != sc.ID {
				return fmt.Errorf("seed: clinics %s and %s have the same %s", other, sc.ID, k.what)
			}
			k.seen[k.value] = sc.ID
		}
	}
	return nil
}
