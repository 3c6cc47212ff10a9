package streamfeed_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"

	"github.com/goodfaith/goodfaith/internal/store/dynamo"
	"github.com/goodfaith/goodfaith/internal/store/dynamo/dynamotest"
	"github.com/goodfaith/goodfaith/internal/store/dynamo/streamfeed"
)

// fakeStreams serves the three DynamoDB Streams operations the feed uses,
// for a stream whose shards DynamoDB Local cannot produce: a closed parent
// shard and its open child, listed child first over two DescribeStream
// pages. It lets the child's first GetRecords fail with an expired
// iterator.
type fakeStreams struct {
	mu      sync.Mutex
	shards  []fakeShard
	expired bool     // whether the expired-iterator error was served
	reads   []string // shard of every GetRecords call, in order
}

type fakeShard struct {
	id, parent string
	closed     bool
	seqs       []int // sequence numbers of its records, ascending
}

func (f *fakeStreams) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var in map[string]any
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "DynamoDBStreams_20120810.")
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	var out any
	switch op {
	case "DescribeStream":
		out = f.describe(in)
	case "GetShardIterator":
		out = f.iterator(in)
	case "GetRecords":
		var fail bool
		out, fail = f.records(in)
		if fail {
			w.WriteHeader(http.StatusBadRequest)
		}
	default:
		http.Error(w, "unexpected operation "+op, http.StatusBadRequest)
		return
	}
	_ = json.NewEncoder(w).Encode(out)
}

func (f *fakeStreams) shard(id string) *fakeShard {
	for i := range f.shards {
		if f.shards[i].id == id {
			return &f.shards[i]
		}
	}
	return nil
}

// describe lists one shard per page, children first.
func (f *fakeStreams) describe(in map[string]any) any {
	order := slices.Clone(f.shards)
	slices.Reverse(order)
	i := 0
	if start, ok := in["ExclusiveStartShardId"].(string); ok {
		for i < len(order) && order[i].id != start {
			i++
		}
		i++
	}
	desc := map[string]any{"StreamArn": in["StreamArn"], "StreamStatus": "ENABLED", "StreamViewType": "NEW_AND_OLD_IMAGES"}
	var shards []any
	if i < len(order) {
		sh := order[i]
		m := map[string]any{"ShardId": sh.id, "SequenceNumberRange": map[string]any{"StartingSequenceNumber": "1"}}
		if sh.parent != "" {
			m["ParentShardId"] = sh.parent
		}
		shards = append(shards, m)
		if i+1 < len(order) {
			desc["LastEvaluatedShardId"] = sh.id
		}
	}
	desc["Shards"] = shards
	return map[string]any{"StreamDescription": desc}
}

// iterator encodes "shard/position", position being the index of the next
// record.
func (f *fakeStreams) iterator(in map[string]any) any {
	id, _ := in["ShardId"].(string)
	sh := f.shard(id)
	pos := 0
	if in["ShardIteratorType"] == "AFTER_SEQUENCE_NUMBER" {
		after, _ := strconv.Atoi(in["SequenceNumber"].(string))
		for pos < len(sh.seqs) && sh.seqs[pos] <= after {
			pos++
		}
	}
	return map[string]any{"ShardIterator": fmt.Sprintf("%s/%d", id, pos)}
}

// records returns up to two records per call.
func (f *fakeStreams) records(in map[string]any) (any, bool) {
	it, _ := in["ShardIterator"].(string)
	id, p, _ := strings.Cut(it, "/")
	pos, _ := strconv.Atoi(p)
	sh := f.shard(id)
	f.reads = append(f.reads, id)
	if sh.parent != "" && !f.expired {
		f.expired = true
		return map[string]any{
			"__type":  "com.amazonaws.dynamodb.v20120810#ExpiredIteratorException",
			"message": "Iterator expired",
		}, true
	}
	end := min(pos+2, len(sh.seqs))
	var recs []any
	for _, seq := range sh.seqs[pos:end] {
		img := map[string]any{"pk": map[string]string{"S": "K"}, "sk": map[string]string{"S": "1"}, "v": map[string]string{"N": strconv.Itoa(seq)}}
		recs = append(recs, map[string]any{
			"eventID":   strconv.Itoa(seq),
			"eventName": "MODIFY",
			"dynamodb": map[string]any{
				"ApproximateCreationDateTime": 1772355600,
				"Keys":                        map[string]any{"pk": map[string]string{"S": "K"}, "sk": map[string]string{"S": "1"}},
				"OldImage":                    img,
				"NewImage":                    img,
				"SequenceNumber":              strconv.Itoa(seq),
				"StreamViewType":              "NEW_AND_OLD_IMAGES",
			},
		})
	}
	out := map[string]any{"Records": recs}
	if !sh.closed || end < len(sh.seqs) {
		out["NextShardIterator"] = fmt.Sprintf("%s/%d", id, end)
	}
	return out, false
}

func TestFeedReadsParentShardsFirst(t *testing.T) {
	db := dynamotest.Client(t)
	table := dynamotest.NewTable(t, db)
	fake := &fakeStreams{shards: []fakeShard{
		{id: "shard-a-parent", closed: true, seqs: []int{100, 101, 102}},
		{id: "shard-b-child", parent: "shard-a-parent", seqs: []int{200, 201}},
	}}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	streams := dynamodbstreams.NewFromConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("goodfaith", "goodfaith-local-secret", ""),
	}, func(o *dynamodbstreams.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	feed := streamfeed.New(dynamo.New(db, table), streams)

	seqs := func(c *collector) []string {
		var ids []string
		for _, ch := range c.snapshot() {
			ids = append(ids, ch.ID)
		}
		return ids
	}
	c := consume(t, feed, "lineage", nil)
	c.waitCount(t, 5)
	time.Sleep(300 * time.Millisecond)
	if got, want := seqs(c), []string{"100", "101", "102", "200", "201"}; !slices.Equal(got, want) {
		t.Fatalf("delivered %v, want %v (parent before child, nothing twice)", got, want)
	}
	fake.mu.Lock()
	reads := slices.Clone(fake.reads)
	expired := fake.expired
	fake.mu.Unlock()
	if i := slices.Index(reads, "shard-b-child"); i < 0 || slices.Contains(reads[i:], "shard-a-parent") {
		t.Errorf("GetRecords order %v: the child was read before its parent was finished", reads)
	}
	if !expired {
		t.Error("the expired-iterator path was not exercised")
	}
	c.stop(t)

	// Restarted, the consumer resumes from its checkpoints: the finished
	// parent is not read again and only the child's new record arrives.
	fake.mu.Lock()
	fake.shards[1].seqs = append(fake.shards[1].seqs, 202)
	fake.reads = nil
	fake.mu.Unlock()
	c = consume(t, feed, "lineage", nil)
	c.waitCount(t, 1)
	time.Sleep(300 * time.Millisecond)
	if got := seqs(c); !slices.Equal(got, []string{"202"}) {
		t.Fatalf("after restart delivered %v, want [202]", got)
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if slices.Contains(fake.reads, "shard-a-parent") {
		t.Errorf("after restart the finished parent shard was read again: %v", fake.reads)
	}
}
