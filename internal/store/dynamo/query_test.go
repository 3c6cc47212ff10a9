package dynamo_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/goodfaith/goodfaith/internal/store"
	"github.com/goodfaith/goodfaith/internal/store/dynamo/dynamotest"
)

// queryAll follows cursors to the end and checks that no page is empty
// while carrying a cursor, and that every page before the last is full.
func queryAll(t *testing.T, s store.Store, q store.Query) (keys []string, pages int) {
	t.Helper()
	for {
		page, err := s.Query(t.Context(), q)
		if err != nil {
			t.Fatalf("Query(%+v): %v", q, err)
		}
		pages++
		if page.Cursor != "" && len(page.Items) < q.Limit {
			t.Fatalf("page %d holds %d items < limit %d but has a cursor", pages, len(page.Items), q.Limit)
		}
		if page.Cursor == "" && len(page.Items) == 0 && pages > 1 {
			t.Fatalf("page %d is an empty last page", pages)
		}
		for _, it := range page.Items {
			keys = append(keys, it.SK)
		}
		if page.Cursor == "" {
			return keys, pages
		}
		q.Cursor = page.Cursor
	}
}

func TestQueryPaging(t *testing.T) {
	s := open(t)
	var want []string
	for i := range 12 {
		sk := fmt.Sprintf("ITEM#%02d", i)
		want = append(want, sk)
		dynamotest.MustPut(t, s, store.Item{
			PK: "LIST", SK: sk, Version: 1,
			GSI1PK: "OWNER", GSI1SK: "same", // equal index sort keys
			GSI2PK: "QUEUE", GSI2SK: fmt.Sprintf("%02d", 11-i),
			GSI3PK: "DUE", GSI3SK: fmt.Sprintf("%02d", 11-i),
		}, store.IfAbsent)
	}
	dynamotest.MustPut(t, s, store.Item{PK: "LIST", SK: "OTHER#1", Version: 1}, store.IfAbsent)
	dynamotest.MustPut(t, s, store.Item{PK: "LIST2", SK: "ITEM#00", Version: 1}, store.IfAbsent)

	for _, limit := range []int{1, 3, 4, 5, 12, 13} {
		keys, pages := queryAll(t, s, store.Query{PK: "LIST", SKPrefix: "ITEM#", Limit: limit})
		if !slices.Equal(keys, want) {
			t.Errorf("limit %d: keys = %v, want %v", limit, keys, want)
		}
		if wantPages := (len(want) + limit - 1) / limit; pages != wantPages {
			t.Errorf("limit %d: %d pages, want %d (no trailing empty page)", limit, pages, wantPages)
		}
	}
	keys, _ := queryAll(t, s, store.Query{PK: "LIST", SKPrefix: "ITEM#", Limit: 5, Descending: true})
	if !slices.Equal(keys, reversed(want)) {
		t.Errorf("descending: keys = %v", keys)
	}
	if keys, _ := queryAll(t, s, store.Query{PK: "LIST"}); len(keys) != 13 {
		t.Errorf("no prefix: %d items, want 13", len(keys))
	}

	// Index queries: equal sort keys page without loss or repeats; gsi2 and
	// gsi3 are ordered by their own sort keys.
	keys, _ = queryAll(t, s, store.Query{Index: store.ByGSI1, PK: "OWNER", Limit: 5})
	got := slices.Clone(keys)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("ByGSI1: keys = %v, want each of %v once", keys, want)
	}
	keys, _ = queryAll(t, s, store.Query{Index: store.ByGSI2, PK: "QUEUE", Limit: 5})
	if !slices.Equal(keys, reversed(want)) {
		t.Errorf("ByGSI2: keys = %v, want by gsi2sk", keys)
	}
	keys, _ = queryAll(t, s, store.Query{Index: store.ByGSI3, PK: "DUE", Limit: 5})
	if !slices.Equal(keys, reversed(want)) {
		t.Errorf("ByGSI3: keys = %v, want by gsi3sk", keys)
	}
}

func TestQueryRejectsForeignCursors(t *testing.T) {
	s := open(t)
	for i := range 3 {
		dynamotest.MustPut(t, s, store.Item{PK: "P", SK: fmt.Sprint(i), GSI1PK: "G", GSI1SK: fmt.Sprint(i), Version: 1}, store.IfAbsent)
	}
	page, err := s.Query(t.Context(), store.Query{PK: "P", Limit: 1})
	if err != nil || page.Cursor == "" {
		t.Fatalf("Query = %+v, %v; want a cursor", page, err)
	}
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for name, q := range map[string]store.Query{
		"garbage":           {PK: "P", Cursor: "not a cursor!"},
		"not json":          {PK: "P", Cursor: enc("hello")},
		"json not strings":  {PK: "P", Cursor: enc(`{"pk":1,"sk":2}`)},
		"missing sk":        {PK: "P", Cursor: enc(`{"pk":"P"}`)},
		"extra attribute":   {PK: "P", Cursor: enc(`{"pk":"P","sk":"0","x":"y"}`)},
		"other partition":   {PK: "Q", Cursor: page.Cursor},
		"other index":       {Index: store.ByGSI1, PK: "G", Cursor: page.Cursor},
		"outside prefix":    {PK: "P", SKPrefix: "1", Cursor: page.Cursor},
		"empty key strings": {PK: "P", Cursor: enc(`{"pk":"P","sk":""}`)},
	} {
		if _, err := s.Query(t.Context(), q); !errors.Is(err, store.ErrInvalidCursor) {
			t.Errorf("%s: err = %v, want ErrInvalidCursor", name, err)
		}
	}
	if _, err := s.Query(t.Context(), store.Query{PK: ""}); err == nil {
		t.Error("Query with an empty partition key succeeded")
	}
	if _, err := s.Query(t.Context(), store.Query{Index: 9, PK: "P"}); err == nil {
		t.Error("Query on an unknown index succeeded")
	}
}

func reversed(s []string) []string {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}
