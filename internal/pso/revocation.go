package pso

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/goodfaith/goodfaith/internal/store"
)

// Revocation records that a PSO must no longer be filled.
type Revocation struct {
	PSOID     string    `json:"pso_id"`
	ExamID    string    `json:"exam_id"`
	ClinicID  string    `json:"clinic_id"`
	RevokedAt time.Time `json:"revoked_at"`
	RevokedBy string    `json:"revoked_by"` // the clinic's id today; a medical director's user id once that role exists
	Role      string    `json:"role"`
	Reason    string    `json:"reason"` // PHI: shown to the clinic, never in public lists
}

// RevokedEntry is a revocation as the public list shows it: the order and
// the time, nothing about the patient.
type RevokedEntry struct {
	ID        string    `json:"id"`
	RevokedAt time.Time `json:"revoked_at"`
}

// RevocationList is a set of revoked PSO ids, as published by the public
// list and read by the offline verifier.
type RevocationList struct {
	Revoked []RevokedEntry `json:"revoked"`
}

// Lookup returns the revocation of id, if listed.
func (l RevocationList) Lookup(id string) *Revocation {
	for _, e := range l.Revoked {
		if e.ID == id {
			return &Revocation{PSOID: e.ID, RevokedAt: e.RevokedAt}
		}
	}
	return nil
}

// MaxRevocationReason bounds the reason text.
const MaxRevocationReason = 1000

// revocationsIndexPK lists every revocation by time (GSI1).
const revocationsIndexPK = "PSO_REVOCATIONS"

func revocationKey(id string) store.Key { return store.Key{PK: "PSO#" + id, SK: "REVOKED"} }

// checkReason trims and checks a revocation reason.
func checkReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "":
		return "", errReasonRequired
	case len(reason) > MaxRevocationReason || !utf8.ValidString(reason):
		return "", errReasonTooLong
	}
	return reason, nil
}

// revocationOp creates the revocation, once.
func revocationOp(r Revocation) (store.Op, error) {
	data, err := json.Marshal(r)
	if err != nil {
		return store.Op{}, err
	}
	k := revocationKey(r.PSOID)
	it := store.Item{PK: k.PK, SK: k.SK, GSI1PK: revocationsIndexPK, GSI1SK: store.SortableTime(r.RevokedAt) + "#" + r.PSOID, Version: 1, Data: data}
	return store.Op{Put: &it, Cond: store.IfAbsent}, nil
}

// GetRevocation returns the revocation of a PSO, or nil when it stands.
func GetRevocation(ctx context.Context, s store.Store, id string) (*Revocation, error) {
	it, err := s.Get(ctx, revocationKey(id))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var r Revocation
	if err := json.Unmarshal(it.Data, &r); err != nil {
		return nil, fmt.Errorf("pso: revocation of %s: %w", id, err)
	}
	return &r, nil
}

// ListRevocations pages through every revocation, oldest first.
func ListRevocations(ctx context.Context, s store.Store, cursor string, limit int) (RevocationList, string, error) {
	page, err := s.Query(ctx, store.Query{Index: store.ByGSI1, PK: revocationsIndexPK, Cursor: cursor, Limit: limit})
	if err != nil {
		return RevocationList{}, "", err
	}
	out := RevocationList{Revoked: []RevokedEntry{}}
	for _, it := range page.Items {
		var r Revocation
		if err := json.Unmarshal(it.Data, &r); err != nil {
			return RevocationList{}, "", err
		}
		out.Revoked = append(out.Revoked, RevokedEntry{ID: r.PSOID, RevokedAt: r.RevokedAt})
	}
	return out, page.Cursor, nil
}
