package dynamo_test

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/goodfaith/goodfaith/internal/store"
	"github.com/goodfaith/goodfaith/internal/store/dynamo"
	"github.com/goodfaith/goodfaith/internal/store/dynamo/dynamotest"
)

const streamEventFile = "../../../testdata/events/dynamodb-stream.json"

func TestChangesFromEventGolden(t *testing.T) {
	raw, err := os.ReadFile(streamEventFile)
	if err != nil {
		t.Fatal(err)
	}
	var e events.DynamoDBEvent
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatal(err)
	}
	got, err := dynamo.ChangesFromEvent(e)
	if err != nil {
		t.Fatalf("ChangesFromEvent: %v", err)
	}

	queued := &store.Item{
		PK: "EXAM#ex_1", SK: "META",
		GSI1PK: "CLINIC#cl_1", GSI1SK: "2026-03-01T09:00:00Z#ex_1",
		GSI2PK: "QUEUE#TX", GSI2SK: "2026-03-01T09:00:00Z",
		GSI3PK: "SLA", GSI3SK: "2026-03-01T09:05:00Z#ex_1",
		Version: 1, Data: []byte(`{"state":"queued"}`),
	}
	claimed := &store.Item{
		PK: "EXAM#ex_1", SK: "META",
		GSI1PK: "CLINIC#cl_1", GSI1SK: "2026-03-01T09:00:00Z#ex_1",
		Version: 2, ExpiresAt: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC),
		Data: []byte(`{"state":"claimed"}`),
	}
	session := &store.Item{
		PK: "SESSION#s_1", SK: "META", Version: 1,
		ExpiresAt: time.Date(2026, 3, 1, 9, 40, 0, 0, time.UTC),
		Data:      []byte(`{"exam":"ex_1"}`),
	}
	want := []store.Change{
		{ID: "111100000000001234567890", Key: store.Key{PK: "EXAM#ex_1", SK: "META"}, New: queued,
			At: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)},
		{ID: "111200000000001234567891", Key: store.Key{PK: "EXAM#ex_1", SK: "META"}, Old: queued, New: claimed,
			At: time.Date(2026, 3, 1, 9, 10, 0, 0, time.UTC)},
		// The CHECKPOINT# record in the file is the feed's own and left out.
		{ID: "111400000000001234567893", Key: store.Key{PK: "SESSION#s_1", SK: "META"}, Old: session,
			At: time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC)},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d changes, want %d: %s", len(got), len(want), describe(got))
	}
	for i := range want {
		if d := changeDiff(want[i], got[i]); d != "" {
			t.Errorf("change %d: %s", i, d)
		}
	}
}

func describe(cs []store.Change) string {
	var b strings.Builder
	for _, c := range cs {
		fmt.Fprintf(&b, "\n  %s %s|%s old=%v new=%v", c.ID, c.Key.PK, c.Key.SK, c.Old != nil, c.New != nil)
	}
	return b.String()
}

func changeDiff(want, got store.Change) string {
	var d []string
	if want.ID != got.ID || want.Key != got.Key || !want.At.Equal(got.At) {
		d = append(d, fmt.Sprintf("ID/Key/At = %s %v %v, want %s %v %v", got.ID, got.Key, got.At, want.ID, want.Key, want.At))
	}
	img := func(name string, w, g *store.Item) {
		switch {
		case w == nil && g == nil:
		case w == nil || g == nil:
			d = append(d, fmt.Sprintf("%s = %+v, want %+v", name, g, w))
		case !dynamotest.SameItem(*w, *g):
			d = append(d, fmt.Sprintf("%s = %+v, want %+v", name, *g, *w))
		}
	}
	img("Old", want.Old, got.Old)
	img("New", want.New, got.New)
	return strings.Join(d, "; ")
}

func TestChangesFromEventRejectsMalformedRecords(t *testing.T) {
	s := func(v string) events.DynamoDBAttributeValue { return events.NewStringAttribute(v) }
	n := func(v string) events.DynamoDBAttributeValue { return events.NewNumberAttribute(v) }
	keys := map[string]events.DynamoDBAttributeValue{"pk": s("P"), "sk": s("S")}
	image := map[string]events.DynamoDBAttributeValue{"pk": s("P"), "sk": s("S"), "v": n("1")}
	rec := func(name string, keys, oldImg, newImg map[string]events.DynamoDBAttributeValue) events.DynamoDBEventRecord {
		return events.DynamoDBEventRecord{EventName: name, Change: events.DynamoDBStreamRecord{
			SequenceNumber: "1", Keys: keys, OldImage: oldImg, NewImage: newImg,
		}}
	}
	for name, r := range map[string]events.DynamoDBEventRecord{
		"keys only stream":   rec("INSERT", keys, nil, nil),
		"modify without old": rec("MODIFY", keys, nil, image),
		"remove without old": rec("REMOVE", keys, nil, nil),
		"unknown event":      rec("UPSERT", keys, nil, image),
		"no pk":              rec("INSERT", map[string]events.DynamoDBAttributeValue{"sk": s("S")}, nil, image),
		"numeric pk":         rec("INSERT", map[string]events.DynamoDBAttributeValue{"pk": n("1"), "sk": s("S")}, nil, image),
		"string version": rec("INSERT", keys, nil, map[string]events.DynamoDBAttributeValue{
			"pk": s("P"), "sk": s("S"), "v": s("1"),
		}),
		"string data": rec("INSERT", keys, nil, map[string]events.DynamoDBAttributeValue{
			"pk": s("P"), "sk": s("S"), "data": s("{}"),
		}),
		"no sequence number": {EventName: "INSERT", Change: events.DynamoDBStreamRecord{Keys: keys, NewImage: image}},
	} {
		if cs, err := dynamo.ChangesFromEvent(events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{r}}); err == nil {
			t.Errorf("%s: ChangesFromEvent = %+v, want an error", name, cs)
		}
	}
	cs, err := dynamo.ChangesFromEvent(events.DynamoDBEvent{})
	if err != nil || len(cs) != 0 {
		t.Errorf("empty event: %v, %v", cs, err)
	}
}
