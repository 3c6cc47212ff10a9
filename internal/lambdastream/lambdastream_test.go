package lambdastream_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/goodfaith/goodfaith/internal/golden"
	"github.com/goodfaith/goodfaith/internal/lambdastream"
	"github.com/goodfaith/goodfaith/internal/store"
)

const eventsDir = "../../testdata/events"

var quiet = lambdastream.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))

// recorder is a change handler that records the ids of each call and fails
// as told.
type recorder struct {
	mu    sync.Mutex
	calls [][]string
	// failOn makes every call holding this change id fail.
	failOn string
	// failFirst makes the first call fail whatever it holds.
	failFirst bool
}

func (r *recorder) handle(_ context.Context, changes []store.Change) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	ids := make([]string, len(changes))
	for i, c := range changes {
		ids[i] = c.ID
	}
	r.calls = append(r.calls, ids)
	if r.failFirst && len(r.calls) == 1 {
		return errors.New("throttled")
	}
	if r.failOn != "" && slices.Contains(ids, r.failOn) {
		return errors.New("cannot handle " + r.failOn)
	}
	return nil
}

func readEvent(t *testing.T, path string) events.DynamoDBEvent {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var e events.DynamoDBEvent
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return e
}

func run(t *testing.T, rec *recorder, e events.DynamoDBEvent) events.DynamoDBEventResponse {
	t.Helper()
	resp, err := lambdastream.Handler(rec.handle, quiet, lambdastream.WithName("test"))(context.Background(), e)
	if err != nil {
		t.Fatalf("handler returned an error: %v", err)
	}
	return resp
}

func reported(resp events.DynamoDBEventResponse) []string {
	out := []string{}
	for _, f := range resp.BatchItemFailures {
		out = append(out, f.ItemIdentifier)
	}
	return out
}

type scenario struct {
	Name     string          `json:"name"`
	Calls    [][]string      `json:"calls"`
	Response json.RawMessage `json:"response"`
}

// TestGoldenStreamEvents runs every testdata/events/dynamodb-stream*.json
// through the handler in several scenarios — success, a transient failure,
// and a persistent failure at each change — and compares the handler calls
// and the response (as Lambda reads it) with a golden file. Run with
// -update to rewrite them.
func TestGoldenStreamEvents(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(eventsDir, "dynamodb-stream*.json"))
	if err != nil || len(files) < 2 {
		t.Fatalf("want at least 2 stream events, found %d (%v)", len(files), err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			e := readEvent(t, file)
			var scenarios []scenario
			play := func(name string, rec *recorder) {
				resp := run(t, rec, e)
				raw, err := json.Marshal(resp)
				if err != nil {
					t.Fatal(err)
				}
				scenarios = append(scenarios, scenario{Name: name, Calls: rec.calls, Response: raw})
			}
			ok := &recorder{}
			play("handler succeeds", ok)
			play("first call fails, then every change succeeds", &recorder{failFirst: true})
			var delivered []string
			if len(ok.calls) > 0 {
				delivered = ok.calls[0]
			}
			for _, id := range delivered {
				play("change "+id+" keeps failing", &recorder{failOn: id})
			}
			out, err := json.MarshalIndent(scenarios, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, '\n')
			golden.Check(t, filepath.Join("testdata", name+".golden.json"), out)
		})
	}
}

// The golden files' key facts, spelled out.
func TestPartialBatchFailures(t *testing.T) {
	e := readEvent(t, filepath.Join(eventsDir, "dynamodb-stream.json"))
	const (
		queued     = "111100000000001234567890"
		claimed    = "111200000000001234567891"
		checkpoint = "111300000000001234567892"
		removed    = "111400000000001234567893"
	)

	t.Run("success reports nothing", func(t *testing.T) {
		rec := &recorder{}
		resp := run(t, rec, e)
		expectIDs(t, "calls", rec.calls, [][]string{{queued, claimed, removed}})
		expectIDs(t, "reported", reported(resp), []string{})
		raw, _ := json.Marshal(resp)
		if string(raw) != `{"batchItemFailures":[]}` {
			t.Errorf("response = %s, want an empty list", raw)
		}
	})
	t.Run("a failing change is reported with every record after it", func(t *testing.T) {
		rec := &recorder{failOn: claimed}
		resp := run(t, rec, e)
		expectIDs(t, "calls", rec.calls, [][]string{{queued, claimed, removed}, {queued}, {claimed}})
		expectIDs(t, "reported", reported(resp), []string{claimed, checkpoint, removed})
	})
	t.Run("a failure at the first change reports the whole batch", func(t *testing.T) {
		resp := run(t, &recorder{failOn: queued}, e)
		expectIDs(t, "reported", reported(resp), []string{queued, claimed, checkpoint, removed})
	})
	t.Run("a failure at the last change reports only its record", func(t *testing.T) {
		resp := run(t, &recorder{failOn: removed}, e)
		expectIDs(t, "reported", reported(resp), []string{removed})
	})
	t.Run("a transient failure reports nothing", func(t *testing.T) {
		rec := &recorder{failFirst: true}
		resp := run(t, rec, e)
		expectIDs(t, "calls", rec.calls, [][]string{{queued, claimed, removed}, {queued}, {claimed}, {removed}})
		expectIDs(t, "reported", reported(resp), []string{})
	})
	t.Run("an unconvertible record ends the batch", func(t *testing.T) {
		bad := readEvent(t, filepath.Join(eventsDir, "dynamodb-stream-malformed.json"))
		rec := &recorder{}
		resp := run(t, rec, bad)
		expectIDs(t, "calls", rec.calls, [][]string{{"222100000000005555555550"}})
		expectIDs(t, "reported", reported(resp), []string{"222200000000005555555551", "222300000000005555555552"})
	})
	t.Run("an unconvertible first record calls nothing", func(t *testing.T) {
		bad := readEvent(t, filepath.Join(eventsDir, "dynamodb-stream-malformed.json"))
		bad.Records = bad.Records[1:]
		rec := &recorder{}
		resp := run(t, rec, bad)
		expectIDs(t, "calls", rec.calls, nil)
		expectIDs(t, "reported", reported(resp), []string{"222200000000005555555551", "222300000000005555555552"})
	})
	t.Run("only checkpoint records calls nothing", func(t *testing.T) {
		only := events.DynamoDBEvent{Records: e.Records[2:3]}
		rec := &recorder{}
		resp := run(t, rec, only)
		expectIDs(t, "calls", rec.calls, nil)
		expectIDs(t, "reported", reported(resp), []string{})
	})
	t.Run("an empty event is a success", func(t *testing.T) {
		resp := run(t, &recorder{}, events.DynamoDBEvent{})
		expectIDs(t, "reported", reported(resp), []string{})
	})
	t.Run("a failed record without a sequence number fails the invocation", func(t *testing.T) {
		noSeq := readEvent(t, filepath.Join(eventsDir, "dynamodb-stream.json"))
		noSeq.Records[1].Change.SequenceNumber = ""
		_, err := lambdastream.Handler((&recorder{}).handle, quiet)(context.Background(), noSeq)
		if err == nil {
			t.Fatal("no error for a record that cannot be reported")
		}
	})
	t.Run("an ended context stops the search", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		calls := 0
		h := func(context.Context, []store.Change) error {
			calls++
			cancel()
			return context.Canceled
		}
		resp, err := lambdastream.Handler(h, quiet)(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		if calls != 1 {
			t.Errorf("handler called %d times after the context ended, want 1", calls)
		}
		expectIDs(t, "reported", reported(resp), []string{queued, claimed, checkpoint, removed})
	})
}

func TestSequence(t *testing.T) {
	e := readEvent(t, filepath.Join(eventsDir, "dynamodb-stream.json"))
	const (
		queued     = "111100000000001234567890"
		claimed    = "111200000000001234567891"
		checkpoint = "111300000000001234567892"
		removed    = "111400000000001234567893"
	)
	seq := func(recs ...*recorder) lambdastream.Func {
		hs := make([]lambdastream.Func, len(recs))
		for i, r := range recs {
			hs[i] = lambdastream.Handler(r.handle, quiet)
		}
		return lambdastream.Sequence(hs...)
	}
	t.Run("all succeed", func(t *testing.T) {
		a, b := &recorder{}, &recorder{}
		resp, err := seq(a, b)(context.Background(), e)
		if err != nil {
			t.Fatal(err)
		}
		expectIDs(t, "a", a.calls, [][]string{{queued, claimed, removed}})
		expectIDs(t, "b", b.calls, [][]string{{queued, claimed, removed}})
		expectIDs(t, "reported", reported(resp), []string{})
	})
	t.Run("a later consumer sees only what earlier ones processed", func(t *testing.T) {
		a, b := &recorder{failOn: claimed}, &recorder{}
		resp, err := seq(a, b)(context.Background(), e)
		if err != nil {
			t.Fatal(err)
		}
		expectIDs(t, "b", b.calls, [][]string{{queued}})
		expectIDs(t, "reported", reported(resp), []string{claimed, checkpoint, removed})
	})
	t.Run("the earliest failure wins", func(t *testing.T) {
		a, b := &recorder{failOn: removed}, &recorder{failOn: queued}
		resp, err := seq(a, b)(context.Background(), e)
		if err != nil {
			t.Fatal(err)
		}
		expectIDs(t, "reported", reported(resp), []string{queued, claimed, checkpoint, removed})
	})
	t.Run("nothing left for a later consumer", func(t *testing.T) {
		a, b := &recorder{failOn: queued}, &recorder{}
		if _, err := seq(a, b)(context.Background(), e); err != nil {
			t.Fatal(err)
		}
		expectIDs(t, "b", b.calls, nil)
	})
	t.Run("an error fails the invocation", func(t *testing.T) {
		boom := func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
			return events.DynamoDBEventResponse{}, errors.New("boom")
		}
		b := &recorder{}
		if _, err := lambdastream.Sequence(boom, lambdastream.Handler(b.handle, quiet))(context.Background(), e); err == nil {
			t.Fatal("no error")
		}
		expectIDs(t, "b", b.calls, nil)
	})
	t.Run("an unknown identifier fails the whole batch", func(t *testing.T) {
		odd := func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
			return events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{{ItemIdentifier: "999"}}}, nil
		}
		resp, err := lambdastream.Sequence(odd)(context.Background(), e)
		if err != nil {
			t.Fatal(err)
		}
		expectIDs(t, "reported", reported(resp), []string{queued, claimed, checkpoint, removed})
	})
}

func TestFailuresAreLoggedWithoutItemData(t *testing.T) {
	e := readEvent(t, filepath.Join(eventsDir, "dynamodb-stream.json"))
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	rec := &recorder{failOn: "111200000000001234567891"}
	if _, err := lambdastream.Handler(rec.handle, lambdastream.WithLogger(log), lambdastream.WithName("dispatch"))(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{`"consumer":"dispatch"`, `"sequence_number":"111200000000001234567891"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
	for _, leak := range []string{"queued", "claimed", "EXAM#"} {
		if strings.Contains(out, leak) {
			t.Errorf("log holds item data %q:\n%s", leak, out)
		}
	}
}

func expectIDs[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if !bytes.Equal(g, w) {
		t.Errorf("%s = %s, want %s", what, g, w)
	}
}
