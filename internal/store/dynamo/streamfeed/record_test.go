package streamfeed

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/goodfaith/goodfaith/internal/store/dynamo"
)

func s(v string) streamtypes.AttributeValue { return &streamtypes.AttributeValueMemberS{Value: v} }
func n(v string) streamtypes.AttributeValue { return &streamtypes.AttributeValueMemberN{Value: v} }

func record(seq, event string, keys, oldImage, newImage map[string]streamtypes.AttributeValue) streamtypes.Record {
	at := time.Date(2026, 11, 22, 15, 4, 5, 0, time.UTC)
	return streamtypes.Record{EventID: aws.String("ev-" + seq), EventName: streamtypes.OperationType(event),
		Dynamodb: &streamtypes.StreamRecord{SequenceNumber: aws.String(seq), ApproximateCreationDateTime: &at,
			Keys: keys, OldImage: oldImage, NewImage: newImage}}
}

// TestChangesFromRecords: Streams API records decode as the same records
// of the Lambda event do (dynamo.ChangesFromEvent), checkpoint records
// are left out, and a malformed record is refused.
func TestChangesFromRecords(t *testing.T) {
	key := map[string]streamtypes.AttributeValue{"pk": s("EXAM#1"), "sk": s("EXAM")}
	v1 := map[string]streamtypes.AttributeValue{"pk": s("EXAM#1"), "sk": s("EXAM"), "v": n("1"),
		"gsi1pk": s("CLINIC#a"), "gsi1sk": s("2026"), "ttl": n("1795363200"),
		"data": &streamtypes.AttributeValueMemberB{Value: []byte(`{"status":"draft"}`)}}
	v2 := map[string]streamtypes.AttributeValue{"pk": s("EXAM#1"), "sk": s("EXAM"), "v": n("2")}
	cpKey := map[string]streamtypes.AttributeValue{"pk": s(dynamo.CheckpointPrefix + "meter"), "sk": s("shard-1")}
	cp := map[string]streamtypes.AttributeValue{"pk": s(dynamo.CheckpointPrefix + "meter"), "sk": s("shard-1"), "v": n("3")}

	changes, err := changesFromRecords([]streamtypes.Record{
		record("100", "INSERT", key, nil, v1),
		record("101", "MODIFY", cpKey, cp, cp),
		record("102", "MODIFY", key, v1, v2),
		record("103", "REMOVE", key, v2, nil),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 3 {
		t.Fatalf("got %d changes, want 3 (the checkpoint's left out): %+v", len(changes), changes)
	}
	ins, mod, rem := changes[0], changes[1], changes[2]
	if ins.ID != "100" || ins.Key.PK != "EXAM#1" || ins.Old != nil || ins.New == nil || !ins.At.Equal(time.Date(2026, 11, 22, 15, 4, 5, 0, time.UTC)) {
		t.Errorf("insert: %+v", ins)
	}
	if it := ins.New; it.Version != 1 || it.GSI1PK != "CLINIC#a" || it.GSI1SK != "2026" || string(it.Data) != `{"status":"draft"}` ||
		!it.ExpiresAt.Equal(time.Unix(1795363200, 0)) {
		t.Errorf("insert's new image: %+v", it)
	}
	if mod.ID != "102" || mod.Old == nil || mod.Old.Version != 1 || mod.New == nil || mod.New.Version != 2 {
		t.Errorf("modify: %+v", mod)
	}
	if rem.ID != "103" || rem.Old == nil || rem.Old.Version != 2 || rem.New != nil {
		t.Errorf("remove: %+v", rem)
	}

	for _, bad := range []struct {
		name string
		r    streamtypes.Record
		want string
	}{
		{"no change", streamtypes.Record{EventName: "INSERT"}, "without a change"},
		{"no sequence number", func() streamtypes.Record {
			r := record("", "INSERT", key, nil, v1)
			r.Dynamodb.SequenceNumber = nil
			return r
		}(), "sequence number"},
		{"no new image", record("104", "INSERT", key, nil, nil), "no new image"},
		{"version of another type", record("105", "INSERT", key, nil, map[string]streamtypes.AttributeValue{
			"pk": s("EXAM#1"), "sk": s("EXAM"), "v": &streamtypes.AttributeValueMemberBOOL{Value: true}}), `"v"`},
		{"data of another type", record("106", "INSERT", key, nil, map[string]streamtypes.AttributeValue{
			"pk": s("EXAM#1"), "sk": s("EXAM"), "v": n("1"), "data": s("not bytes")}), `"data"`},
		{"index key of another type", record("107", "INSERT", key, nil, map[string]streamtypes.AttributeValue{
			"pk": s("EXAM#1"), "sk": s("EXAM"), "v": n("1"), "gsi1pk": &streamtypes.AttributeValueMemberSS{Value: []string{"x"}}, "gsi1sk": s("1")}), `"gsi1pk"`},
	} {
		if _, err := changesFromRecords([]streamtypes.Record{bad.r}); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: err = %v, want one naming %s", bad.name, err, bad.want)
		}
	}
}
