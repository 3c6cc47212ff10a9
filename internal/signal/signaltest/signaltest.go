// Package signaltest builds a signal.Handler on the embedded store with the
// e2e seed, a fake clock and a recording connections.Sender, for tests.
package signaltest

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/goodfaith/goodfaith/internal/app"
	"github.com/goodfaith/goodfaith/internal/auth"
	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/connections"
	"github.com/goodfaith/goodfaith/internal/directory"
	"github.com/goodfaith/goodfaith/internal/exam"
	"github.com/goodfaith/goodfaith/internal/signal"
	"github.com/goodfaith/goodfaith/internal/store"
	"github.com/goodfaith/goodfaith/internal/store/boltstore"
)

// Recorder is a connections.Sender keeping what each connection was sent;
// connections marked gone answer connections.ErrGone.
type Recorder struct {
	mu   sync.Mutex
	got  map[string][]signal.Out
	gone map[string]bool
}

// NewRecorder returns an empty recorder.
func NewRecorder() *Recorder {
	return &Recorder{got: map[string][]signal.Out{}, gone: map[string]bool{}}
}

// Send records msg, or answers ErrGone.
func (r *Recorder) Send(_ context.Context, id string, b []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.gone[id] {
		return connections.ErrGone
	}
	var o signal.Out
	if err := json.Unmarshal(b, &o); err != nil {
		return err
	}
	r.got[id] = append(r.got[id], o)
	return nil
}

// Take returns and forgets what id was sent.
func (r *Recorder) Take(id string) []signal.Out {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.got[id]
	delete(r.got, id)
	return out
}

// SetGone makes id answer connections.ErrGone.
func (r *Recorder) SetGone(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gone[id] = true
}

// Fixture is a signal handler over a seeded embedded store.
type Fixture struct {
	t     *testing.T
	App   *app.App
	Store *boltstore.Store
	Clock *clock.Fake
	H     *signal.Handler
	Rec   *Recorder
	Iss   *auth.DevIssuer
}

// Now0 is the fixture clock's start.
var Now0 = time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC) // a Monday afternoon

// New builds a fixture; root is the repository root relative to the test.
func New(t *testing.T, root string) *Fixture {
	t.Helper()
	dir := t.TempDir()
	clk := clock.NewFake(Now0)
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	local, err := app.OpenLocal(dir, "http://127.0.0.1:1", clk, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { local.Close() })
	iss, err := auth.NewDevIssuer(auth.DevIssuerConfig{Dir: dir, Issuer: "http://127.0.0.1:1/dev", Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	ver, err := iss.Verifier()
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(local.Ports, app.Settings{Clock: clk, Log: log, PatientSecret: local.PatientSecret, TokenIssuer: "http://127.0.0.1:1", Providers: ver})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(root, "testdata", "seed", "e2e.json"))
	if err != nil {
		t.Fatal(err)
	}
	seed, err := directory.ParseSeed(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.LoadSeed(context.Background(), seed); err != nil {
		t.Fatal(err)
	}
	rec := NewRecorder()
	return &Fixture{t: t, App: a, Store: local.Store, Clock: clk, H: a.SignalHandler(rec), Rec: rec, Iss: iss}
}

// QueuedVideoExam writes a queued Texas neurotoxin video exam of clinic_a.
func (f *Fixture) QueuedVideoExam(id string) string {
	f.t.Helper()
	now := f.Clock.Now()
	e := exam.Exam{
		ID: id, ClinicID: "clinic_a", Status: exam.Queued, State: "TX", Treatments: []string{"neurotoxin"},
		Modality: "video", ModalitiesAllowed: []string{"video"},
		Patient:   exam.Patient{FirstName: "Maria", LastName: "Garcia", DOB: "1990-04-12", Email: "m@example.com", State: "TX"},
		Consents:  exam.Consents{Telehealth: true, Privacy: true},
		CreatedAt: now, UpdatedAt: now, SubmittedAt: &now, QueuedAt: &now, History: []exam.Transition{},
	}
	if err := f.Store.Put(context.Background(), exam.ToItem(e, 1), store.IfAbsent); err != nil {
		f.t.Fatal(err)
	}
	return id
}

// PatientToken issues a patient token for examID.
func (f *Fixture) PatientToken(examID string) string {
	f.t.Helper()
	tok, _, err := f.App.Deps.PatientTokens.Issue(examID, "clinic_a")
	if err != nil {
		f.t.Fatal(err)
	}
	return tok
}

// ProviderToken mints a provider JWT.
func (f *Fixture) ProviderToken(id string) string {
	f.t.Helper()
	tok, err := f.Iss.Mint(id, time.Hour)
	if err != nil {
		f.t.Fatal(err)
	}
	return tok
}

// Connect connects connID with token or fails the test.
func (f *Fixture) Connect(connID, token string) {
	f.t.Helper()
	if _, err := f.H.Connect(context.Background(), connID, token); err != nil {
		f.t.Fatalf("connect %s: %v", connID, err)
	}
}

// Say sends msg (marshalled) from connID.
func (f *Fixture) Say(connID string, msg any) {
	f.t.Helper()
	b, err := json.Marshal(msg)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.H.Message(context.Background(), connID, b); err != nil {
		f.t.Fatalf("message from %s: %v", connID, err)
	}
}

// Exam reads an exam record.
func (f *Fixture) Exam(id string) exam.Exam {
	f.t.Helper()
	it, err := f.Store.Get(context.Background(), store.Key{PK: "EXAM#" + id, SK: "EXAM"})
	if err != nil {
		f.t.Fatal(err)
	}
	e, err := exam.FromItem(it)
	if err != nil {
		f.t.Fatal(err)
	}
	return e
}

// Items counts the stored items.
func (f *Fixture) Items() int {
	f.t.Helper()
	its, err := f.Store.Scan(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	return len(its)
}

// Only asserts that msgs is exactly one message and returns it.
func Only(t *testing.T, who string, msgs []signal.Out) signal.Out {
	t.Helper()
	if len(msgs) != 1 {
		t.Fatalf("%s got %d messages, want 1: %+v", who, len(msgs), msgs)
	}
	return msgs[0]
}
