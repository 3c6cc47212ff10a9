package storetest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/goodfaith/goodfaith/internal/store"
)

var transactTests = []subtest{
	{"CommitsEveryOp", testTransactCommits},
	{"AllOrNothing", testTransactAllOrNothing},
	{"TooManyOps", testTransactTooMany},
	{"RepeatedKey", testTransactRepeatedKey},
	{"MalformedOp", testTransactMalformedOp},
}

// transactFixture stores X, Y and Z at version 1 and returns the state that
// must hold if a transaction over them fails.
func transactFixture(t *testing.T, s store.Store, pk string) (x, y, z store.Item, before map[store.Key]*store.Item) {
	t.Helper()
	x = store.Item{PK: pk, SK: "x", GSI1PK: pk + "-owner", GSI1SK: "x", Version: 1, Data: []byte("x1")}
	y = store.Item{PK: pk, SK: "y", Version: 1, Data: []byte("y1")}
	z = store.Item{PK: pk, SK: "z", Version: 1, Data: []byte("z1")}
	for _, it := range []store.Item{x, y, z} {
		mustPut(t, s, it, store.IfAbsent)
	}
	before = map[store.Key]*store.Item{
		x.Key(): &x, y.Key(): &y, z.Key(): &z,
		{PK: pk, SK: "a"}: nil,
		{PK: pk, SK: "b"}: nil,
	}
	return x, y, z, before
}

// validOps creates A and B, updates X, deletes Y and checks Z: every op
// holds against the fixture.
func validOps(pk string, x, y, z store.Item) []store.Op {
	a := store.Item{PK: pk, SK: "a", GSI2PK: pk + "-queue", GSI2SK: "a", Version: 1, Data: []byte("a1")}
	b := store.Item{PK: pk, SK: "b", GSI3PK: pk + "-due", GSI3SK: "b", Version: 1, Data: []byte("b1")}
	x2 := x
	x2.Version, x2.Data = 2, []byte("x2")
	yk, zk := y.Key(), z.Key()
	return []store.Op{
		{Put: &a, Cond: store.IfAbsent},
		{Put: &x2, Cond: store.IfVersion(1)},
		{Delete: &yk, Cond: store.IfExists},
		{Check: &zk, Cond: store.IfVersion(1)},
		{Put: &b, Cond: store.None},
	}
}

func testTransactCommits(t *testing.T, open opener) {
	s := openStore(t, open)
	pk := "tx-commit"
	x, y, z, _ := transactFixture(t, s, pk)
	ops := validOps(pk, x, y, z)
	if err := s.Transact(t.Context(), ops...); err != nil {
		t.Fatalf("Transact: %v", err)
	}
	wantItem(t, s, *ops[0].Put)
	wantItem(t, s, *ops[1].Put)
	wantAbsent(t, s, y.Key())
	wantItem(t, s, z) // a Check writes nothing
	wantItem(t, s, *ops[4].Put)

	// Checks alone, passing under every kind of condition.
	missing := store.Key{PK: pk, SK: "missing"}
	xk, zk := x.Key(), z.Key()
	err := s.Transact(t.Context(),
		store.Op{Check: &missing, Cond: store.IfAbsent},
		store.Op{Check: &xk, Cond: store.IfExists},
		store.Op{Check: &zk, Cond: store.None},
	)
	if err != nil {
		t.Fatalf("Transact of passing checks: %v", err)
	}
	wantAbsent(t, s, missing)
	wantItem(t, s, z)
}

func testTransactAllOrNothing(t *testing.T, open opener) {
	s := openStore(t, open)
	pk := "tx-atomic"
	x, y, z, before := transactFixture(t, s, pk)
	missing := store.Key{PK: pk, SK: "missing"}
	xk, yk, zk := x.Key(), y.Key(), z.Key()
	xBad := x
	xBad.Version = 9
	zAgain := z
	zAgain.Version = 2
	failing := []struct {
		name string
		op   store.Op
	}{
		{"CheckMissingIfExists", store.Op{Check: &missing, Cond: store.IfExists}},
		{"CheckMissingIfVersion", store.Op{Check: &missing, Cond: store.IfVersion(1)}},
		{"CheckExistingIfAbsent", store.Op{Check: &xk, Cond: store.IfAbsent}},
		{"CheckWrongVersion", store.Op{Check: &zk, Cond: store.IfVersion(5)}},
		{"PutExistingIfAbsent", store.Op{Put: &zAgain, Cond: store.IfAbsent}},
		{"PutMissingIfExists", store.Op{Put: &store.Item{PK: pk, SK: "missing", Version: 1}, Cond: store.IfExists}},
		{"PutWrongVersion", store.Op{Put: &xBad, Cond: store.IfVersion(7)}},
		{"DeleteMissingIfExists", store.Op{Delete: &missing, Cond: store.IfExists}},
		{"DeleteWrongVersion", store.Op{Delete: &zk, Cond: store.IfVersion(2)}},
		{"DeleteExistingIfAbsent", store.Op{Delete: &yk, Cond: store.IfAbsent}},
	}
	for i, f := range failing {
		t.Run(f.name, func(t *testing.T) {
			// The valid ops for every key but the failing op's, with the
			// failing op at a different position each time.
			var ops []store.Op
			for _, op := range validOps(pk, x, y, z) {
				if opKey(op) != opKey(f.op) {
					ops = append(ops, op)
				}
			}
			at := i % (len(ops) + 1)
			ops = append(ops[:at], append([]store.Op{f.op}, ops[at:]...)...)

			err := s.Transact(t.Context(), ops...)
			if !errors.Is(err, store.ErrConditionFailed) {
				t.Fatalf("Transact with failing op at %d: %v; want store.ErrConditionFailed", at, err)
			}
			wantState(t, s, before)
			wantAbsent(t, s, missing)
		})
	}
}

func opKey(op store.Op) store.Key {
	switch {
	case op.Put != nil:
		return op.Put.Key()
	case op.Delete != nil:
		return *op.Delete
	default:
		return *op.Check
	}
}

func testTransactTooMany(t *testing.T, open opener) {
	s := openStore(t, open)
	puts := func(pk string, n int) []store.Op {
		ops := make([]store.Op, n)
		for i := range ops {
			ops[i] = store.Op{Put: &store.Item{PK: pk, SK: fmt.Sprintf("%03d", i), Version: 1}, Cond: store.IfAbsent}
		}
		return ops
	}

	over := puts("tx-over", store.MaxTransactOps+1)
	if err := s.Transact(t.Context(), over...); !errors.Is(err, store.ErrTooManyOps) {
		t.Fatalf("Transact of %d ops: %v; want store.ErrTooManyOps", len(over), err)
	}
	for _, op := range over {
		wantAbsent(t, s, op.Put.Key())
	}

	full := puts("tx-full", store.MaxTransactOps)
	if err := s.Transact(t.Context(), full...); err != nil {
		t.Fatalf("Transact of MaxTransactOps (%d) ops: %v", len(full), err)
	}
	for _, op := range full {
		wantItem(t, s, *op.Put)
	}
}

func testTransactRepeatedKey(t *testing.T, open opener) {
	s := openStore(t, open)
	pk := "tx-repeat"
	existing := store.Item{PK: pk, SK: "e", Version: 1}
	mustPut(t, s, existing, store.IfAbsent)
	ek := existing.Key()
	newKey := store.Key{PK: pk, SK: "n"}
	other := store.Item{PK: pk, SK: "other", Version: 1}
	v2 := existing
	v2.Version = 2
	cases := []struct {
		name string
		ops  []store.Op
	}{
		{"PutPut", []store.Op{
			{Put: &store.Item{PK: pk, SK: "n", Version: 1}},
			{Put: &other},
			{Put: &store.Item{PK: pk, SK: "n", Version: 2}},
		}},
		{"PutCheck", []store.Op{{Put: &v2, Cond: store.IfVersion(1)}, {Put: &other}, {Check: &ek, Cond: store.IfVersion(1)}}},
		{"CheckDelete", []store.Op{{Check: &ek, Cond: store.IfExists}, {Put: &other}, {Delete: &ek}}},
		{"DeleteDelete", []store.Op{{Delete: &newKey}, {Put: &other}, {Delete: &newKey}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := s.Transact(t.Context(), c.ops...)
			if !errors.Is(err, store.ErrTooManyOps) {
				t.Fatalf("Transact repeating a key: %v; want store.ErrTooManyOps", err)
			}
			wantItem(t, s, existing)
			wantAbsent(t, s, newKey)
			wantAbsent(t, s, other.Key())
		})
	}

	// Keys differing only in PK or only in SK are different keys.
	a := store.Item{PK: pk + "-a", SK: "same", Version: 1}
	b := store.Item{PK: pk + "-b", SK: "same", Version: 1}
	c := store.Item{PK: pk + "-a", SK: "other", Version: 1}
	if err := s.Transact(t.Context(), store.Op{Put: &a}, store.Op{Put: &b}, store.Op{Put: &c}); err != nil {
		t.Fatalf("Transact over distinct keys sharing a PK or an SK: %v", err)
	}
	for _, it := range []store.Item{a, b, c} {
		wantItem(t, s, it)
	}
}

func testTransactMalformedOp(t *testing.T, open opener) {
	s := openStore(t, open)
	valid := store.Item{PK: "tx-malformed", SK: "valid", Version: 1}
	k := store.Key{PK: "tx-malformed", SK: "k"}
	cases := []struct {
		name string
		op   store.Op
	}{
		{"Empty", store.Op{}},
		{"PutAndDelete", store.Op{Put: &store.Item{PK: k.PK, SK: k.SK, Version: 1}, Delete: &k}},
		{"DeleteAndCheck", store.Op{Delete: &k, Check: &k}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := s.Transact(t.Context(), store.Op{Put: &valid}, c.op); err == nil {
				t.Fatal("Transact accepted an op that does not set exactly one of Put, Delete and Check")
			}
			wantAbsent(t, s, valid.Key())
			wantAbsent(t, s, k)
		})
	}
}
