package exam

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/goodfaith/goodfaith/internal/fault"
	"github.com/goodfaith/goodfaith/internal/store"
)

// Keys of exam records in the single table.
func examKey(id string) store.Key { return store.Key{PK: "EXAM#" + id, SK: "EXAM"} }

func attachmentKey(examID, attID string) store.Key {
	return store.Key{PK: "EXAM#" + examID, SK: "ATT#" + attID}
}

// decisionLockKey guards the signing of a decision so that concurrent
// deciders do not each sign and store an order only one of them can keep.
func decisionLockKey(examID string) store.Key { return store.Key{PK: "EXAM#" + examID, SK: "DECIDING"} }

// ClinicIndexPK lists a clinic's exams on GSI1, newest last.
func ClinicIndexPK(clinicID string) string { return "CLINIC#" + clinicID + "#EXAMS" }

// QueueIndexPK lists a state's queued exams on GSI2, nearest its SLA first.
func QueueIndexPK(state string) string { return "QUEUE#" + state }

// IsExamItem reports whether a store item holds an exam record (for change
// feed consumers).
func IsExamItem(it *store.Item) bool {
	return it != nil && it.SK == "EXAM" && len(it.PK) > 5 && it.PK[:5] == "EXAM#"
}

// FromItem decodes an exam record.
func FromItem(it store.Item) (Exam, error) {
	var e Exam
	if err := json.Unmarshal(it.Data, &e); err != nil {
		return Exam{}, err
	}
	e.version = it.Version
	return e, nil
}

// item encodes e for storage with the given version, placing it in the
// clinic index always, in its state's queue only while queued (or in the
// claims index while claimed), and in the SLA-due index only while queued
// with an SLA.
func (e Exam) item(version int64) store.Item {
	data, err := json.Marshal(e)
	if err != nil {
		panic("exam: cannot encode record: " + err.Error()) // only plain data types; a failure is a programming error
	}
	k := examKey(e.ID)
	it := store.Item{
		PK: k.PK, SK: k.SK, Version: version, Data: data,
		GSI1PK: ClinicIndexPK(e.ClinicID), GSI1SK: store.SortableTime(e.CreatedAt) + "#" + e.ID,
	}
	switch {
	case e.Status == Queued && e.QueuedAt != nil:
		it.GSI2PK = QueueIndexPK(e.State)
		it.GSI2SK = e.queueSortKey() // SLA priority (sla.go)
	case e.Status == Claimed && e.Lease != nil:
		it.GSI2PK = ClaimsIndexPK
		it.GSI2SK = store.SortableTime(e.Lease.Until) + "#" + e.ID // for the lease sweep (leases.go)
	}
	// On the SLA-due index only while an SLA step is pending (sla.go), so
	// any move out of the queue takes it off.
	if sk, ok := e.slaIndexSK(); ok {
		it.GSI3PK, it.GSI3SK = SLAIndexPK, sk
	}
	return it
}

// createOp creates e; it fails if the id is taken.
func (e Exam) createOp() store.Op {
	it := e.item(1)
	return store.Op{Put: &it, Cond: store.IfAbsent}
}

// updateOp replaces e as read (old version) with next.
func updateOp(old, next Exam) store.Op {
	it := next.item(old.version + 1)
	return store.Op{Put: &it, Cond: store.IfVersion(old.version)}
}

func load(ctx context.Context, s store.Store, id string) (Exam, error) {
	it, err := s.Get(ctx, examKey(id))
	if errors.Is(err, store.ErrNotFound) {
		return Exam{}, errExamNotFound
	}
	if err != nil {
		return Exam{}, err
	}
	return FromItem(it)
}

var errExamNotFound = fault.NotFound("exam_not_found", "no such exam")

// commit applies ops; a failed condition means someone else changed the
// exam first.
func commit(ctx context.Context, s store.Store, ops ...store.Op) error {
	err := s.Transact(ctx, ops...)
	if errors.Is(err, store.ErrConditionFailed) {
		return fault.Conflict("concurrent_update", "the exam changed while this request ran; nothing was written")
	}
	return err
}

// ToItem encodes e as the store item it is kept in at version; FromItem
// reads it back.
func ToItem(e Exam, version int64) store.Item { return e.item(version) }
