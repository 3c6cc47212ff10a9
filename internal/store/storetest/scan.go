package storetest

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/goodfaith/goodfaith/internal/store"
)

var scanTests = []subtest{
	{"EveryItem", testScan},
}

func testScan(t *testing.T, open opener) {
	s := openStore(t, open)
	sc, ok := s.(store.Scanner)
	if !ok {
		t.Skipf("%T does not implement store.Scanner", s)
	}
	const pk = "scan/"
	want := map[store.Key]store.Item{}
	for i := range 30 {
		it := store.Item{PK: fmt.Sprintf("%s%d", pk, i%4), SK: fmt.Sprintf("%02d", i), Version: 1, Data: []byte{byte(i), 0x80}}
		if i%3 == 0 {
			it.GSI1PK, it.GSI1SK = "g", it.SK
		}
		if i%5 == 0 {
			it.GSI2PK, it.GSI2SK, it.ExpiresAt = "q", it.SK, farFuture
		}
		if i%7 == 0 {
			it.GSI3PK, it.GSI3SK = "due", it.SK
		}
		mustPut(t, s, it, store.IfAbsent)
		want[it.Key()] = it
	}
	// A deleted and an updated item, so that Scan shows the current state.
	del := store.Key{PK: pk + "0", SK: "04"}
	if err := s.Delete(t.Context(), del, store.IfExists); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	delete(want, del)
	upd := want[store.Key{PK: pk + "1", SK: "09"}]
	upd.Version, upd.Data, upd.GSI1PK, upd.GSI1SK = 2, []byte("updated"), "", ""
	mustPut(t, s, upd, store.IfVersion(1))
	want[upd.Key()] = upd

	all, err := sc.Scan(t.Context())
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	var got []store.Item
	for _, it := range all {
		if strings.HasPrefix(it.PK, pk) {
			got = append(got, it)
		}
	}
	byKey := func(a, b store.Item) int {
		return strings.Compare(a.PK+"\x00"+a.SK, b.PK+"\x00"+b.SK)
	}
	slices.SortFunc(got, byKey)
	wantList := slices.SortedFunc(maps.Values(want), byKey)
	if d := itemsDiff(wantList, got); d != "" {
		t.Fatalf("Scan: %s", d)
	}
}
