// Package signaltest builds a signal.Handler on either home — the embedded
// store or DynamoDB Local — with the e2e seed, a fake clock and a recording
// connections.Sender, for tests.
package signaltest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goodfaith/goodfaith/internal/app"
	"github.com/goodfaith/goodfaith/internal/app/localhome"
	"github.com/goodfaith/goodfaith/internal/auth"
	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/connections"
	"github.com/goodfaith/goodfaith/internal/directory/seedtest"
	"github.com/goodfaith/goodfaith/internal/exam"
	"github.com/goodfaith/goodfaith/internal/signal"
	"github.com/goodfaith/goodfaith/internal/signer"
	"github.com/goodfaith/goodfaith/internal/store"
	"github.com/goodfaith/goodfaith/internal/store/dynamo"
	"github.com/goodfaith/goodfaith/internal/testenv"
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

// Fixture is a signal handler over a seeded store of one home.
type Fixture struct {
	t     *testing.T
	App   *app.App
	Store store.Store // the exams' store
	Clock *clock.Fake
	H     *signal.Handler
	Rec   *Recorder
	Iss   *auth.DevIssuer
	// scanners list the items of every store the handler writes.
	scanners []store.Scanner
}

// Now0 is the fixture clock's start.
var Now0 = time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC) // a Monday afternoon

// Home opens the adapters of one home for a fixture.
type Home struct {
	Name string
	open func(t *testing.T, dir string, clk *clock.Fake, log *slog.Logger) (app.Ports, []byte, []store.Scanner)
}

// Homes are the embedded store (with its separate live store) and
// DynamoDB Local (infra/testenv/with-services.sh starts it; without it the
// aws home skips, or fails under CI).
var Homes = []Home{{"embedded", openEmbedded}, {"aws", openAWS}}

// ForEachHome runs fn as a subtest on a fresh fixture of each home.
func ForEachHome(t *testing.T, fn func(t *testing.T, f *Fixture)) {
	for _, h := range Homes {
		t.Run(h.Name, func(t *testing.T) { fn(t, NewOn(t, h)) })
	}
}

// New builds a fixture on the embedded home.
func New(t *testing.T) *Fixture { return NewOn(t, Homes[0]) }

func openEmbedded(t *testing.T, dir string, clk *clock.Fake, log *slog.Logger) (app.Ports, []byte, []store.Scanner) {
	local, err := localhome.Open(dir, "http://127.0.0.1:1", clk, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { local.Close() })
	return local.Ports, local.PatientSecret, []store.Scanner{local.Store, local.Live}
}

var tables atomic.Int64

func openAWS(t *testing.T, dir string, clk *clock.Fake, log *slog.Logger) (app.Ports, []byte, []store.Scanner) {
	endpoint := testenv.DynamoDB(t)
	ctx := context.Background()
	key, err := signer.LoadOrCreateFileKey(filepath.Join(dir, "key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	table := fmt.Sprintf("goodfaith-signal-%d-%d", time.Now().UnixNano()%1e9, tables.Add(1))
	// Signaling touches no blob: an S3 endpoint nothing listens on makes
	// any use fail loudly instead of reaching AWS.
	a, err := app.OpenAWS(ctx, app.AWSConfig{
		Region: "us-east-1", Table: table, Bucket: "goodfaith-signal-unused",
		DynamoDBEndpoint: endpoint, S3Endpoint: "http://127.0.0.1:1", AccessKey: "local", SecretKey: "local",
	}, key, clk, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := dynamo.CreateTable(ctx, a.DB, table); err != nil {
		t.Fatal(err)
	}
	return a.Ports, []byte("signal tests' patient-token secret, 32+ bytes"), []store.Scanner{a.Store}
}

// NewOn builds a fixture on home, loaded with the shared test seed.
func NewOn(t *testing.T, home Home) *Fixture {
	t.Helper()
	dir := t.TempDir()
	clk := clock.NewFake(Now0)
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	ports, patientSecret, scanners := home.open(t, dir, clk, log)
	iss, err := auth.NewDevIssuer(auth.DevIssuerConfig{Dir: dir, Issuer: "http://127.0.0.1:1/dev", Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	ver, err := iss.Verifier()
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(ports, app.Settings{Clock: clk, Log: log, PatientSecret: patientSecret, TokenIssuer: "http://127.0.0.1:1", Providers: ver})
	if err != nil {
		t.Fatal(err)
	}
	seed := seedtest.E2E(t)
	if err := a.LoadSeed(context.Background(), seed); err != nil {
		t.Fatal(err)
	}
	rec := NewRecorder()
	return &Fixture{t: t, App: a, Store: ports.Store, Clock: clk, H: a.SignalHandler(rec), Rec: rec, Iss: iss, scanners: scanners}
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

// Items counts the stored items of every store the handler writes.
func (f *Fixture) Items() int {
	f.t.Helper()
	n := 0
	for _, sc := range f.scanners {
		its, err := sc.Scan(context.Background())
		if err != nil {
			f.t.Fatal(err)
		}
		n += len(its)
	}
	return n
}

// Only asserts that msgs is exactly one message and returns it.
func Only(t *testing.T, who string, msgs []signal.Out) signal.Out {
	t.Helper()
	if len(msgs) != 1 {
		t.Fatalf("%s got %d messages, want 1: %+v", who, len(msgs), msgs)
	}
	return msgs[0]
}
