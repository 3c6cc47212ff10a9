package directory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/goodfaith/goodfaith/internal/fault"
	"github.com/goodfaith/goodfaith/internal/store"
)

// MedicalDirector is the physician who carries final responsibility for a
// clinic's patients: they sign its protocols, attest its emergency
// readiness, enable its products, review its charts and may revoke its
// orders. One director may serve several clinics; a clinic may have more
// than one.
type MedicalDirector struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Credential string   `json:"credential"` // MD | DO
	NPI        string   `json:"npi"`
	Email      string   `json:"email,omitempty"` // where notifications go; never logged
	Clinics    []string `json:"clinics"`
}

// Directs reports whether the director serves the clinic.
func (m MedicalDirector) Directs(clinicID string) bool { return slices.Contains(m.Clinics, clinicID) }

func directorKey(id string) store.Key { return store.Key{PK: "DIRECTOR#" + id, SK: "DIRECTOR"} }

// clinicDirectorKey indexes a clinic's directors (one item per pair).
func clinicDirectorKey(clinicID, directorID string) store.Key {
	return store.Key{PK: "CLINIC#" + clinicID, SK: "DIRECTOR#" + directorID}
}

// MaxDirectorClinics bounds the clinics one director serves, so that
// PutDirector's transaction (the director, an index item per clinic, and
// the deletion of the items of as many clinics left) stays within
// store.MaxTransactOps.
const MaxDirectorClinics = 12

// Validate checks a director record before it is stored.
func (m MedicalDirector) Validate() error {
	if m.ID == "" || m.Name == "" {
		return fmt.Errorf("medical director: id and name are required")
	}
	if m.Credential != "MD" && m.Credential != "DO" {
		return fmt.Errorf("medical director %s: credential must be MD or DO", m.ID)
	}
	if len(m.Clinics) == 0 {
		return fmt.Errorf("medical director %s: directs no clinic", m.ID)
	}
	if n := len(slices.Compact(slices.Sorted(slices.Values(m.Clinics)))); n > MaxDirectorClinics {
		return fmt.Errorf("medical director %s: directs %d clinics; at most %d", m.ID, n, MaxDirectorClinics)
	}
	return nil
}

// PutDirector writes a director and indexes them under each clinic, each
// index item carrying a copy of the director so that listing a clinic's
// directors (every readiness check, every widget load) is one query; it
// deletes the index items of clinics the director no longer serves, in the
// same transaction. The transaction holds only if the director record is
// still the one read (compare-and-set, retried), so writers at once cannot
// leave a stale copy behind.
func (d Directory) PutDirector(ctx context.Context, m MedicalDirector) error {
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	k := directorKey(m.ID)
	return d.transactCAS(ctx, "director_changed", func() ([]store.Op, error) {
		var stored MedicalDirector
		version, err := d.readRecord(ctx, k, &stored)
		if err != nil {
			return nil, err
		}
		ops := []store.Op{{Put: &store.Item{PK: k.PK, SK: k.SK, Version: version + 1, Data: data}, Cond: casCond(version)}}
		for i, c := range m.Clinics {
			if slices.Contains(m.Clinics[:i], c) {
				continue // listed twice: one item (a transaction may not write an item twice)
			}
			ck := clinicDirectorKey(c, m.ID)
			ops = append(ops, store.Op{Put: &store.Item{PK: ck.PK, SK: ck.SK, Version: 1, Data: data}})
		}
		for i, c := range stored.Clinics {
			if !m.Directs(c) && !slices.Contains(stored.Clinics[:i], c) {
				ck := clinicDirectorKey(c, m.ID)
				ops = append(ops, store.Op{Delete: &ck})
			}
		}
		return ops, nil
	})
}

// Director returns a director by id (fault.ErrNotFound when unknown).
func (d Directory) Director(ctx context.Context, id string) (MedicalDirector, error) {
	var m MedicalDirector
	return m, d.get(ctx, directorKey(id), &m, "director_not_found")
}

// ClinicDirectors lists the clinic's medical directors: one query of the
// clinic's index items, which carry the directors (PutDirector); an item
// of an older build, without the copy, is resolved by reading the
// director.
func (d Directory) ClinicDirectors(ctx context.Context, clinicID string) ([]MedicalDirector, error) {
	page, err := d.Store.Query(ctx, store.Query{Index: store.Primary, PK: "CLINIC#" + clinicID, SKPrefix: "DIRECTOR#"})
	if err != nil {
		return nil, err
	}
	out := []MedicalDirector{}
	for _, it := range page.Items {
		var m MedicalDirector
		if err := json.Unmarshal(it.Data, &m); err != nil {
			return nil, fmt.Errorf("directory: %s %s: %w", it.PK, it.SK, err)
		}
		if m.ID == "" { // an index item of an older build: no copy, and maybe stale
			if m, err = d.Director(ctx, it.SK[len("DIRECTOR#"):]); errors.Is(err, fault.ErrNotFound) {
				continue
			} else if err != nil {
				return nil, err
			}
		}
		if m.Directs(clinicID) {
			out = append(out, m)
		}
	}
	return out, nil
}
