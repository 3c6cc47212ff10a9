package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goodfaith/goodfaith/internal/app/localhome"
	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/exam"
	"github.com/goodfaith/goodfaith/internal/store"
	"github.com/goodfaith/goodfaith/internal/testenv"
)

// A data folder an older build wrote holds a queued exam without the
// SLA-due index's keys: starting the server puts it on the index (and says
// so once), and a second start finds nothing to do.
func TestStartPutsOlderQueuedExamsOnTheSLAIndex(t *testing.T) {
	dir := t.TempDir()
	now := time.Now().UTC()
	e := exam.Exam{
		ID: "ex_older_build", ClinicID: "clinic_glow", Status: exam.Queued, State: "TX", Treatments: []string{"neurotoxin"},
		Modality: "video", ModalitiesAllowed: []string{"video"},
		Patient:   exam.Patient{FirstName: "Maria", LastName: "Garcia", DOB: "1990-04-12", Email: "m@example.com", State: "TX"},
		Consents:  exam.Consents{Telehealth: true, Privacy: true},
		CreatedAt: now, UpdatedAt: now, SubmittedAt: &now, QueuedAt: &now, History: []exam.Transition{},
		// Due long after the test, so no sweep of the running server changes it.
		SLA: &exam.SLA{EscalateAt: now.Add(time.Hour), Deadline: now.Add(24 * time.Hour)},
	}
	current := exam.ToItem(e, 1)
	if current.GSI3PK != exam.SLAIndexPK || current.GSI3SK == "" {
		t.Fatalf("this build writes the queued exam with GSI3 keys %q/%q; want it on the SLA index", current.GSI3PK, current.GSI3SK)
	}
	older := current
	older.GSI3PK, older.GSI3SK = "", ""
	writeItems(t, dir, older)

	log := startAndStopLog(t, dir)
	if got := indexedCounts(t, log); len(got) != 1 || got[0] != 1 {
		t.Errorf("start-up logged SLA indexing %v; want one line with 1 exam:\n%s", got, log)
	}
	if strings.Contains(log, "Maria") || strings.Contains(log, "Garcia") {
		t.Errorf("the start-up log names the patient:\n%s", log)
	}
	key := store.Key{PK: current.PK, SK: current.SK}
	it := readItem(t, dir, key)
	if it.GSI3PK != current.GSI3PK || it.GSI3SK != current.GSI3SK || it.Version != 2 {
		t.Fatalf("after start-up the exam has GSI3 keys %q/%q at version %d; want %q/%q at version 2",
			it.GSI3PK, it.GSI3SK, it.Version, current.GSI3PK, current.GSI3SK)
	}
	if got, err := exam.FromItem(it); err != nil || got.Status != exam.Queued || !got.UpdatedAt.Equal(e.UpdatedAt) {
		t.Fatalf("after start-up the exam is %+v, %v; want it queued and otherwise unchanged", got, err)
	}

	log = startAndStopLog(t, dir)
	if got := indexedCounts(t, log); len(got) != 0 {
		t.Errorf("second start-up logged SLA indexing %v; want nothing to do:\n%s", got, log)
	}
	if again := readItem(t, dir, key); again.Version != 2 {
		t.Errorf("second start-up rewrote the exam: version %d", again.Version)
	}
}

// A queued exam that cannot be read stops start-up with an error naming
// the SLA index, before the server serves.
func TestStartFailsWhenTheSLAIndexCannotBeBuilt(t *testing.T) {
	dir := t.TempDir()
	writeItems(t, dir, store.Item{
		PK: "EXAM#ex_unreadable", SK: "EXAM", Version: 1, Data: []byte("{not json"),
		GSI2PK: exam.QueueIndexPK("TX"), GSI2SK: "x#ex_unreadable",
	})
	served, err := startAndStop(t, dir, io.Discard)
	if served {
		t.Fatal("the server served although an exam could not be put on the SLA index")
	}
	if err == nil || !strings.Contains(err.Error(), "SLA index") || !strings.Contains(err.Error(), "ex_unreadable") {
		t.Fatalf("run = %v; want a start-up error about the SLA index naming the item", err)
	}
}

// writeItems writes items into the store of data folder dir, as an older
// build left them.
func writeItems(t *testing.T, dir string, items ...store.Item) {
	t.Helper()
	local, err := localhome.Open(dir, "http://127.0.0.1:1", clock.System{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	for _, it := range items {
		if err := local.Store.Put(t.Context(), it, store.IfAbsent); err != nil {
			t.Fatal(err)
		}
	}
}

// readItem reads one item of the store of data folder dir (the server has
// stopped: the file is not shared).
func readItem(t *testing.T, dir string, key store.Key) store.Item {
	t.Helper()
	local, err := localhome.Open(dir, "http://127.0.0.1:1", clock.System{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	it, err := local.Store.Get(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

// startAndStop runs the local server on data folder dir and a free
// loopback port, logging to log, and stops it once it serves (its banner).
// served tells whether it got that far; err is what run returned.
func startAndStop(t *testing.T, dir string, log io.Writer) (served bool, err error) {
	t.Helper()
	ready := &firstWrite{ready: make(chan struct{})}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, slog.New(slog.NewJSONHandler(log, nil)), ready, clock.System{}, "127.0.0.1:0", dir, "", false, "")
	}()
	select {
	case <-ready.ready:
		cancel()
		return true, <-errc
	case err := <-errc:
		return false, err
	}
}

// startAndStopLog is startAndStop of a start-up that must succeed; it
// returns what the server logged.
func startAndStopLog(t *testing.T, dir string) string {
	t.Helper()
	var log testenv.LogBuffer
	if served, err := startAndStop(t, dir, &log); !served || err != nil {
		t.Fatalf("start-up: served %v, run = %v", served, err)
	}
	return log.String()
}

// indexedCounts is the "exams" of every log line saying queued exams were
// put on the SLA index.
func indexedCounts(t *testing.T, log string) []int {
	t.Helper()
	var counts []int
	for line := range strings.Lines(log) {
		var rec struct {
			Msg   string `json:"msg"`
			Exams *int   `json:"exams"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if strings.Contains(rec.Msg, "SLA index") {
			if rec.Exams == nil {
				t.Fatalf("log line %q has no exam count", line)
			}
			counts = append(counts, *rec.Exams)
		}
	}
	return counts
}

// firstWrite closes ready at its first write: run prints its banner once
// the server serves.
type firstWrite struct {
	once  sync.Once
	ready chan struct{}
}

func (w *firstWrite) Write(p []byte) (int, error) {
	w.once.Do(func() { close(w.ready) })
	return len(p), nil
}
