package exam

import (
	"context"
	"sort"
	"time"

	"github.com/goodfaith/goodfaith/internal/questionnaire"
)

// HeldItem is one exam a provider holds (claimed or in a consult), shown
// like a queue item: no patient identity, so listing it reads no PHI.
type HeldItem struct {
	ExamID     string               `json:"exam_id"`
	State      string               `json:"state"`
	Treatments []string             `json:"treatments"`
	Modality   string               `json:"modality"`
	Status     Status               `json:"status"`
	ClaimedAt  *time.Time           `json:"claimed_at,omitempty"`
	LeaseUntil *time.Time           `json:"lease_until,omitempty"`
	Flags      []questionnaire.Flag `json:"flags"`
}

// Held lists the exams the provider holds now, oldest claim first. The
// console rebuilds its list from it after a reload, when it knows only the
// exam in its address.
func (s *Service) Held(ctx context.Context, providerID string) ([]HeldItem, error) {
	cs, err := s.loadSlots(ctx, providerID)
	if err != nil {
		return nil, err
	}
	es, err := s.heldExams(ctx, providerID, cs)
	if err != nil {
		return nil, err
	}
	items := make([]HeldItem, 0, len(es))
	for _, e := range es {
		it := HeldItem{ExamID: e.ID, State: e.State, Treatments: e.Treatments, Modality: e.Modality, Status: e.Status, ClaimedAt: e.ClaimedAt, Flags: nonNil(e.Flags)}
		if e.Lease != nil {
			it.LeaseUntil = &e.Lease.Until
		}
		items = append(items, it)
	}
	sort.SliceStable(items, func(i, j int) bool {
		a, b := items[i].ClaimedAt, items[j].ClaimedAt
		return a != nil && (b == nil || a.Before(*b))
	})
	return items, nil
}
