// Package clinicrules keeps each clinic's overrides of the state rules:
// the tightenings its medical director asks for (require video, exclude a
// licence type, block a treatment in a state). The overrides themselves
// and the check that they only tighten live in package rules; this
// package stores them, one record per clinic, written by compare-and-set.
package clinicrules

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/goodfaith/goodfaith/internal/fault"
	"github.com/goodfaith/goodfaith/internal/rules"
	"github.com/goodfaith/goodfaith/internal/store"
)

// Record is a clinic's current overrides.
type Record struct {
	ClinicID  string          `json:"clinic_id"`
	Rules     rules.Overrides `json:"rules"`
	UpdatedAt time.Time       `json:"updated_at,omitzero"`
	// RulesVersion is the version of the rules data they were checked
	// against.
	RulesVersion string `json:"rules_version,omitempty"`
	Version      int64  `json:"version"`
}

func key(clinicID string) store.Key { return store.Key{PK: "CLINIC#" + clinicID, SK: "RULES"} }

// Get returns a clinic's overrides; a clinic with none has an empty list
// at version 0.
func Get(ctx context.Context, s store.Store, clinicID string) (Record, error) {
	it, err := s.Get(ctx, key(clinicID))
	if errors.Is(err, store.ErrNotFound) {
		return Record{ClinicID: clinicID, Rules: rules.Overrides{}}, nil
	}
	if err != nil {
		return Record{}, err
	}
	var r Record
	if err := json.Unmarshal(it.Data, &r); err != nil {
		return Record{}, err
	}
	r.Version = it.Version
	return r, nil
}

// Put replaces a clinic's overrides after checking they only tighten the
// law as of now (fault.ErrInvalid otherwise, nothing written). A concurrent
// replacement fails with fault.ErrConflict.
func Put(ctx context.Context, s store.Store, rs *rules.Set, clinicID string, ovs rules.Overrides, now time.Time) (Record, error) {
	if ovs == nil {
		ovs = rules.Overrides{}
	}
	if err := rs.Validate(ovs, now); err != nil {
		return Record{}, err
	}
	cur, err := Get(ctx, s, clinicID)
	if err != nil {
		return Record{}, err
	}
	next := Record{ClinicID: clinicID, Rules: ovs, UpdatedAt: now, RulesVersion: rs.Version(), Version: cur.Version + 1}
	data, err := json.Marshal(next)
	if err != nil {
		return Record{}, err
	}
	cond := store.IfAbsent
	if cur.Version > 0 {
		cond = store.IfVersion(cur.Version)
	}
	k := key(clinicID)
	err = s.Put(ctx, store.Item{PK: k.PK, SK: k.SK, Version: next.Version, Data: data}, cond)
	if errors.Is(err, store.ErrConditionFailed) {
		return Record{}, fault.Conflict("concurrent_update", "the clinic's rules changed while this request ran; nothing was written")
	}
	return next, err
}
