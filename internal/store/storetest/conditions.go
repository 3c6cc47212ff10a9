package storetest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/goodfaith/goodfaith/internal/store"
)

var conditionTests = []subtest{
	{"Put", testPutConditions},
	{"Delete", testDeleteConditions},
}

type conditionCase struct {
	cond   store.Condition
	exists bool // whether an item at version 3 is stored before the write
	ok     bool
}

func (c conditionCase) String() string {
	state := "absent"
	if c.exists {
		state = "existing-v3"
	}
	name := map[store.ConditionKind]string{
		store.Unconditional: "None", store.Absent: "IfAbsent",
		store.Exists: "IfExists", store.VersionIs: "IfVersion",
	}[c.cond.Kind]
	if c.cond.Kind == store.VersionIs {
		name = fmt.Sprintf("IfVersion(%d)", c.cond.Version)
	}
	return name + "/" + state
}

var conditionCases = []conditionCase{
	{store.None, false, true},
	{store.None, true, true},
	{store.IfAbsent, false, true},
	{store.IfAbsent, true, false},
	{store.IfExists, false, false},
	{store.IfExists, true, true},
	{store.IfVersion(3), true, true},
	{store.IfVersion(2), true, false},
	{store.IfVersion(4), true, false},
	{store.IfVersion(3), false, false},
	// A missing item has no version, not version 0.
	{store.IfVersion(0), false, false},
}

func existingV3(k store.Key) store.Item {
	return store.Item{PK: k.PK, SK: k.SK, GSI1PK: "g", GSI1SK: k.PK, Version: 3, Data: []byte("stored")}
}

func testPutConditions(t *testing.T, open opener) {
	s := openStore(t, open)
	for i, c := range conditionCases {
		t.Run(c.String(), func(t *testing.T) {
			k := store.Key{PK: fmt.Sprintf("put-cond-%02d", i), SK: "item"}
			if c.exists {
				mustPut(t, s, existingV3(k), store.IfAbsent)
			}
			next := store.Item{PK: k.PK, SK: k.SK, Version: 4, Data: []byte("written")}
			err := s.Put(t.Context(), next, c.cond)
			switch {
			case c.ok && err != nil:
				t.Fatalf("Put under %v: %v; want success", c, err)
			case c.ok:
				wantItem(t, s, next)
			case !errors.Is(err, store.ErrConditionFailed):
				t.Fatalf("Put under %v: %v; want store.ErrConditionFailed", c, err)
			case c.exists:
				wantItem(t, s, existingV3(k))
			default:
				wantAbsent(t, s, k)
			}
		})
	}
}

func testDeleteConditions(t *testing.T, open opener) {
	s := openStore(t, open)
	for i, c := range conditionCases {
		t.Run(c.String(), func(t *testing.T) {
			k := store.Key{PK: fmt.Sprintf("delete-cond-%02d", i), SK: "item"}
			if c.exists {
				mustPut(t, s, existingV3(k), store.IfAbsent)
			}
			// A neighbour in the partition must survive whatever happens.
			neighbour := store.Item{PK: k.PK, SK: "neighbour", Version: 1}
			mustPut(t, s, neighbour, store.IfAbsent)

			err := s.Delete(t.Context(), k, c.cond)
			switch {
			case c.ok && err != nil:
				t.Fatalf("Delete under %v: %v; want success", c, err)
			case c.ok:
				wantAbsent(t, s, k)
			case !errors.Is(err, store.ErrConditionFailed):
				t.Fatalf("Delete under %v: %v; want store.ErrConditionFailed", c, err)
			case c.exists:
				wantItem(t, s, existingV3(k))
			default:
				wantAbsent(t, s, k)
			}
			wantItem(t, s, neighbour)
		})
	}
}
