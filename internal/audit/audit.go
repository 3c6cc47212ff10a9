// Package audit records every read and write of protected health
// information: who (actor and role), what (action), which exam, when, and
// why. Records are append-only: each is created with a condition that it
// does not exist, and nothing in the code updates or deletes one.
package audit

import (
	"context"
	"encoding/json"
	"time"

	"github.com/goodfaith/goodfaith/internal/store"
)

// Record is one audit entry.
type Record struct {
	ID     string    `json:"id"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"` // exam id for a patient, provider id, clinic id
	Role   string    `json:"role"`
	Action string    `json:"action"` // e.g. exam.read, exam.intake, pso.issue
	ExamID string    `json:"exam_id"`
	Reason string    `json:"reason,omitempty"`
}

func (r Record) item() store.Item {
	data, _ := json.Marshal(r) // a struct of strings and a time cannot fail to marshal
	return store.Item{
		PK:      "AUDIT#" + r.ExamID,
		SK:      store.SortableTime(r.At) + "#" + r.ID,
		Version: 1,
		Data:    data,
	}
}

// Op is the record as a transaction operation, so an audited write and its
// audit record commit together.
func (r Record) Op() store.Op {
	it := r.item()
	return store.Op{Put: &it, Cond: store.IfAbsent}
}

// Append writes a record on its own (for reads).
func Append(ctx context.Context, s store.Store, r Record) error {
	return s.Put(ctx, r.item(), store.IfAbsent)
}

// ForExam lists an exam's audit records, oldest first.
func ForExam(ctx context.Context, s store.Store, examID string) ([]Record, error) {
	var out []Record
	q := store.Query{Index: store.Primary, PK: "AUDIT#" + examID}
	for {
		page, err := s.Query(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, it := range page.Items {
			var r Record
			if err := json.Unmarshal(it.Data, &r); err != nil {
				return nil, err
			}
			out = append(out, r)
		}
		if page.Cursor == "" {
			return out, nil
		}
		q.Cursor = page.Cursor
	}
}
