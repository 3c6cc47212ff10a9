package oversight

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/goodfaith/goodfaith/internal/audit"
	"github.com/goodfaith/goodfaith/internal/catalog"
	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/directory"
	"github.com/goodfaith/goodfaith/internal/exam"
	"github.com/goodfaith/goodfaith/internal/fault"
	"github.com/goodfaith/goodfaith/internal/ids"
	"github.com/goodfaith/goodfaith/internal/notify"
	"github.com/goodfaith/goodfaith/internal/rules"
	"github.com/goodfaith/goodfaith/internal/store"
)

// Roles recorded in audit records.
const (
	RoleDirector = "medical_director"
	RoleClinic   = "clinic"
	RoleProvider = "provider"
)

// Service runs the medical director's use cases.
type Service struct {
	Store     store.Store
	Directory directory.Directory
	Catalog   *catalog.Catalog
	Readiness *Requirements
	Rules     *rules.Set
	Notifier  notify.Notifier
	Clock     clock.Clock
	IDs       ids.Generator
}

var _ exam.Oversight = (*Service)(nil)

// Actor is who acts: a director (ID = director id) or a clinic (ID =
// clinic id).
type Actor struct {
	ID   string
	Role string
}

// Errors.
var (
	// ErrNotFound is what another clinic's records look like.
	ErrNotFound = fault.NotFound("not_found", "no such resource")
)

func (s *Service) now() time.Time { return s.Clock.Now().UTC() }

// Director returns the director if they direct the clinic, else
// ErrNotFound: a clinic the caller does not direct does not exist for them.
func (s *Service) Director(ctx context.Context, directorID, clinicID string) (directory.MedicalDirector, directory.Clinic, error) {
	m, err := s.Directory.Director(ctx, directorID)
	if errors.Is(err, fault.ErrNotFound) || (err == nil && !m.Directs(clinicID)) {
		return directory.MedicalDirector{}, directory.Clinic{}, ErrNotFound
	}
	if err != nil {
		return directory.MedicalDirector{}, directory.Clinic{}, err
	}
	c, err := s.Directory.Clinic(ctx, clinicID)
	if errors.Is(err, fault.ErrNotFound) {
		return directory.MedicalDirector{}, directory.Clinic{}, ErrNotFound
	}
	return m, c, err
}

func (s *Service) auditRec(a Actor, action, subject, reason string) audit.Record {
	return audit.Record{ID: s.IDs.New("aud"), At: s.now(), Actor: a.ID, Role: a.Role, Action: action, ExamID: subject, Reason: reason}
}

// clinicSubject is the audit subject of clinic-wide records.
func clinicSubject(clinicID string) string { return "CLINIC#" + clinicID }

func clinicPK(clinicID string) string { return "CLINIC#" + clinicID }

func getJSON(ctx context.Context, st store.Store, k store.Key, into any) (int64, error) {
	it, err := st.Get(ctx, k)
	if err != nil {
		return 0, err
	}
	return it.Version, json.Unmarshal(it.Data, into)
}

func putOp(k store.Key, v any, version int64) (store.Op, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return store.Op{}, err
	}
	cond := store.IfAbsent
	if version > 0 {
		cond = store.IfVersion(version)
	}
	return store.Op{Put: &store.Item{PK: k.PK, SK: k.SK, Version: version + 1, Data: data}, Cond: cond}, nil
}

// commit applies ops; a lost race is a conflict the caller may retry.
func (s *Service) commit(ctx context.Context, ops ...store.Op) error {
	err := s.Store.Transact(ctx, ops...)
	if errors.Is(err, store.ErrConditionFailed) {
		return fault.Conflict("conflict", "the record changed meanwhile; read it again and retry")
	}
	return err
}

// queryAll pages through a query.
func (s *Service) queryAll(ctx context.Context, q store.Query) ([]store.Item, error) {
	var out []store.Item
	for {
		page, err := s.Store.Query(ctx, q)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
		if page.Cursor == "" {
			return out, nil
		}
		q.Cursor = page.Cursor
	}
}

// checkText trims s and checks its length and characters.
func checkText(field, s string, required bool, limit int) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		if required {
			return "", fault.Invalid("required", field, "this field is required")
		}
		return "", nil
	}
	if len(s) > limit {
		return "", fault.Invalid("too_long", field, fmt.Sprintf("at most %d characters", limit))
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return "", fault.Invalid("invalid_characters", field, "control characters are not allowed")
		}
	}
	return s, nil
}

func (s *Service) knownTreatment(clinic directory.Clinic, t, field string) error {
	if !s.Rules.KnownCategory(t) {
		return fault.Invalid("treatment_unknown", field, fmt.Sprintf("%q is not a treatment category", t))
	}
	if !clinic.Offers(t) {
		return fault.Invalid("treatment_not_offered", field, "this clinic does not offer "+s.Rules.CategoryName(t))
	}
	return nil
}
