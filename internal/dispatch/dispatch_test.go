package dispatch

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/goodfaith/goodfaith/internal/auth"
	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/directory"
	"github.com/goodfaith/goodfaith/internal/directory/seedtest"
	"github.com/goodfaith/goodfaith/internal/exam"
	"github.com/goodfaith/goodfaith/internal/notify"
	"github.com/goodfaith/goodfaith/internal/presence"
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
		e := exam.Exam{ID: id, ClinicID: "clinic_a", Status: s, State: "TX", Treatments: []string{"neurotoxin"}, Modality: "async",
			Patient: exam.Patient{Email: "pat@example.com"}}
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
	seed := seedtest.E2E(t)
	rs := rules.Default()
	if err := (directory.Directory{Store: st}).Load(context.Background(), seed, rs, auth.HashSecretKey); err != nil {
		t.Fatal(err)
	}
	out := notify.Outbox{Store: st, Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	d := Dispatcher{Store: st, Rules: rs, Notifier: out, Clock: clock.System{}}
	// Only online providers hear of a new exam.
	if _, err := presence.Set(context.Background(), st, clock.System{}, "prov_tx_md", true); err != nil {
		t.Fatal(err)
	}
	if _, err := presence.Set(context.Background(), st, clock.System{}, "prov_ca_md", true); err != nil {
		t.Fatal(err)
	}
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
	// prov_tx_md and prov_tx_np may take TX neurotoxin (CA, expired and
	// RN may not), and only prov_tx_md is online.
	want := map[string]int{"prov_tx_md": 2}
	if len(got) != len(want) || got["prov_tx_md"] != 2 {
		t.Fatalf("notifications per provider = %v, want %v", got, want)
	}
}

func TestEscalationTellsEveryEligibleProviderAndExpiryTellsPatientAndClinic(t *testing.T) {
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	seed := seedtest.E2E(t)
	rs := rules.Default()
	ctx := context.Background()
	if err := (directory.Directory{Store: st}).Load(ctx, seed, rs, auth.HashSecretKey); err != nil {
		t.Fatal(err)
	}
	if _, err := presence.Set(ctx, st, clock.System{}, "prov_tx_md", true); err != nil {
		t.Fatal(err)
	}
	out := notify.Outbox{Store: st, Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	d := Dispatcher{Store: st, Rules: rs, Notifier: out, Clock: clock.System{}}
	now := time.Now().UTC()
	base := exam.Exam{ID: "exam_9", ClinicID: "clinic_a", Status: exam.Queued, State: "TX", Treatments: []string{"neurotoxin"}, Modality: "video",
		Patient: exam.Patient{Email: "pat@example.com"}, QueuedAt: &now,
		SLA: &exam.SLA{EscalateAt: now, Deadline: now.Add(time.Hour)}}
	esc := base
	sla := *base.SLA
	sla.EscalatedAt = &now
	esc.SLA = &sla
	exp := esc
	exp.Status = exam.Expired
	item := func(e exam.Exam) *store.Item { it := exam.ToItem(e, 1); return &it }
	batch := []store.Change{
		{ID: "c1", Old: item(base), New: item(esc)},
		{ID: "c2", Old: item(esc), New: item(exp)},
	}
	for range 2 {
		if err := d.Handle(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	msgs, err := out.List(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, m := range msgs {
		got[m.To] = m.Channel
	}
	// The escalation of a video exam reaches the offline NP too (by email);
	// the expiry reaches the patient and the clinic, once each.
	want := map[string]string{"prov_tx_md": "console", "prov_tx_np": "email", "pat@example.com": "email", "clinic_a": "console"}
	if len(msgs) != len(want) || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("messages %v (%d), want %v", got, len(msgs), want)
	}
}
