package dispatch

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/goodfaith/goodfaith/internal/auth"
	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/directory"
	"github.com/goodfaith/goodfaith/internal/exam"
	"github.com/goodfaith/goodfaith/internal/notify"
	"github.com/goodfaith/goodfaith/internal/rules"
	"github.com/goodfaith/goodfaith/internal/store"
	"github.com/goodfaith/goodfaith/internal/store/boltstore"
)

// change builds a change of an exam from status old to new.
func change(t *testing.T, id string, old, new exam.Status) store.Change {
	t.Helper()
	mk := func(s exam.Status) *store.Item {
		if s == "" {
			return nil
		}
		e := exam.Exam{ID: id, ClinicID: "clinic_a", Status: s, State: "TX", Treatments: []string{"neurotoxin"}, Modality: "async"}
		now := time.Now()
		e.QueuedAt = &now
		it := exam.ToItem(e, 1)
		return &it
	}
	return store.Change{ID: "chg-" + id + "-" + string(new), Key: store.Key{PK: "EXAM#" + id, SK: "EXAM"}, Old: mk(old), New: mk(new)}
}

func TestNotifiesEligibleProvidersOnceWhateverTheRedeliveries(t *testing.T) {
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "seed", "e2e.json"))
	if err != nil {
		t.Fatal(err)
	}
	seed, err := directory.ParseSeed(raw)
	if err != nil {
		t.Fatal(err)
	}
	rs := rules.Default()
	if err := (directory.Directory{Store: st}).Load(context.Background(), seed, rs, auth.HashSecretKey); err != nil {
		t.Fatal(err)
	}
	out := notify.Outbox{Store: st, Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	d := Dispatcher{Store: st, Rules: rs, Notifier: out, Clock: clock.System{}}
	batch := []store.Change{
		change(t, "exam_1", exam.Submitted, exam.Queued), // newly queued: notify
		change(t, "exam_2", exam.Queued, exam.Claimed),   // leaves the queue: nothing
		change(t, "exam_3", exam.Claimed, exam.Queued),   // released back: notify again
		change(t, "exam_4", exam.Draft, exam.Draft),      // intake: nothing
	}
	for range 3 { // redelivered twice
		if err := d.Handle(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
	}
	msgs, err := out.List(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, m := range msgs {
		got[m.To]++
	}
	// prov_tx_md and prov_tx_np may take TX neurotoxin; CA, expired and RN may not.
	want := map[string]int{"prov_tx_md": 2, "prov_tx_np": 2}
	if len(got) != len(want) || got["prov_tx_md"] != 2 || got["prov_tx_np"] != 2 {
		t.Fatalf("notifications per provider = %v, want %v", got, want)
	}
}
