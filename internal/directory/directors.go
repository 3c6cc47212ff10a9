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
	return nil
}

// PutDirector writes a director and indexes them under each clinic,
// replacing what was there. Clinics removed from the list keep a stale
// index item that ClinicDirectors filters out.
func (d Directory) PutDirector(ctx context.Context, m MedicalDirector) error {
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	k := directorKey(m.ID)
	ops := []store.Op{{Put: &store.Item{PK: k.PK, SK: k.SK, Version: 1, Data: data}}}
	for _, c := range m.Clinics {
		ck := clinicDirectorKey(c, m.ID)
		ops = append(ops, store.Op{Put: &store.Item{PK: ck.PK, SK: ck.SK, Version: 1, Data: []byte(`{}`)}})
	}
	return d.Store.Transact(ctx, ops...)
}

// Director returns a director by id (fault.ErrNotFound when unknown).
func (d Directory) Director(ctx context.Context, id string) (MedicalDirector, error) {
	var m MedicalDirector
	return m, d.get(ctx, directorKey(id), &m, "director_not_found")
}

// ClinicDirectors lists the clinic's medical directors.
func (d Directory) ClinicDirectors(ctx context.Context, clinicID string) ([]MedicalDirector, error) {
	page, err := d.Store.Query(ctx, store.Query{Index: store.Primary, PK: "CLINIC#" + clinicID, SKPrefix: "DIRECTOR#"})
	if err != nil {
		return nil, err
	}
	out := []MedicalDirector{}
	for _, it := range page.Items {
		m, err := d.Director(ctx, it.SK[len("DIRECTOR#"):])
		if errors.Is(err, fault.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if m.Directs(clinicID) {
			out = append(out, m)
		}
	}
	return out, nil
}
