package notify_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/notify"
	"github.com/goodfaith/goodfaith/internal/store"
	"github.com/goodfaith/goodfaith/internal/store/boltstore"
)

// sender counts sends and fails while fail says so.
type sender struct {
	mu    sync.Mutex
	sent  []notify.Message
	fail  bool
	delay time.Duration
}

func (s *sender) Send(_ context.Context, m notify.Message) error {
	time.Sleep(s.delay)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return errors.New("ses: MessageRejected")
	}
	s.sent = append(s.sent, m)
	return nil
}

func (s *sender) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sent)
}

func newRouter(t *testing.T, clk clock.Clock) (notify.Router, *sender, *sender) {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "s.db"), boltstore.WithoutSync())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	email, sms := &sender{}, &sender{}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	return notify.Router{Store: st, Log: log, Clock: clk, Senders: map[string]notify.Sender{"email": email, "sms": sms}}, email, sms
}

func fate(t *testing.T, r notify.Router, id string) (status string, attempts int) {
	t.Helper()
	it, err := r.Store.Get(context.Background(), store.Key{PK: "OUTBOX#" + id, SK: "MSG"})
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		Status   string `json:"status"`
		Attempts int    `json:"attempts"`
	}
	if err := json.Unmarshal(it.Data, &rec); err != nil {
		t.Fatal(err)
	}
	return rec.Status, rec.Attempts
}

func TestRouterRoutesByChannelAndSendsOnce(t *testing.T) {
	ctx := context.Background()
	r, email, sms := newRouter(t, nil)
	at := time.Now().UTC()
	for _, m := range []notify.Message{
		{ID: "m-email", To: "ana@example.com", Channel: "email", Subject: "s", Body: "b", At: at},
		{ID: "m-sms", To: "+15125550100", Channel: "sms", Body: "b", At: at.Add(time.Second)},
		{ID: "m-console", To: "prov_1", Channel: "console", Subject: "new exam", At: at.Add(2 * time.Second)},
	} {
		for range 3 { // a redelivered change, a retried request
			if err := r.Notify(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
	}
	if email.count() != 1 || sms.count() != 1 || email.sent[0].To != "ana@example.com" || sms.sent[0].To != "+15125550100" {
		t.Fatalf("email sends %d, sms sends %d", email.count(), sms.count())
	}
	if s, n := fate(t, r, "m-email"); s != notify.StatusSent || n != 1 {
		t.Fatalf("email fate %q after %d attempts", s, n)
	}
	// Every message, routed or not, is in the outbox, newest first.
	msgs, err := notify.Outbox{Store: r.Store}.List(ctx, 10)
	if err != nil || len(msgs) != 3 || msgs[0].ID != "m-console" || msgs[2].ID != "m-email" {
		t.Fatalf("outbox = %v, %v", msgs, err)
	}
}

func TestRouterRecordsAFailureAndRetriesIt(t *testing.T) {
	ctx := context.Background()
	r, email, _ := newRouter(t, nil)
	m := notify.Message{ID: "m1", To: "ana@example.com", Channel: "email", Subject: "s", Body: "b", At: time.Now()}
	email.fail = true
	if err := r.Notify(ctx, m); err == nil {
		t.Fatal("a refused send reported success")
	}
	if s, _ := fate(t, r, "m1"); s != notify.StatusFailed {
		t.Fatalf("fate %q", s)
	}
	email.fail = false
	if err := r.Notify(ctx, m); err != nil {
		t.Fatal(err)
	}
	if err := r.Notify(ctx, m); err != nil {
		t.Fatal(err)
	}
	if s, n := fate(t, r, "m1"); s != notify.StatusSent || n != 2 || email.count() != 1 {
		t.Fatalf("fate %q after %d attempts, %d sent", s, n, email.count())
	}
}

func TestRouterConcurrentAttemptsSendOnce(t *testing.T) {
	r, email, _ := newRouter(t, nil)
	email.delay = 50 * time.Millisecond
	m := notify.Message{ID: "m1", To: "ana@example.com", Channel: "email", Body: "b", At: time.Now()}
	var wg sync.WaitGroup
	var inFlight atomic.Int32
	for range 8 {
		wg.Go(func() {
			err := r.Notify(context.Background(), m)
			if errors.Is(err, notify.ErrInFlight) {
				inFlight.Add(1)
			} else if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if email.count() != 1 {
		t.Fatalf("%d sends", email.count())
	}
	if inFlight.Load() == 0 {
		t.Fatal("no attempt saw the send in flight")
	}
}

func TestRouterRetakesAStaleSend(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	r, email, _ := newRouter(t, clk)
	m := notify.Message{ID: "m1", To: "ana@example.com", Channel: "email", Body: "b", At: clk.Now()}
	// An attempt that died mid-send left its marker.
	raw, _ := json.Marshal(map[string]any{"id": "m1", "channel": "email", "status": "sending", "updated_at": clk.Now()})
	if err := r.Store.Put(ctx, store.Item{PK: "OUTBOX#m1", SK: "MSG", GSI1PK: "OUTBOX", GSI1SK: "x", Version: 1, Data: raw}, store.IfAbsent); err != nil {
		t.Fatal(err)
	}
	if err := r.Notify(ctx, m); !errors.Is(err, notify.ErrInFlight) || email.count() != 0 {
		t.Fatalf("within the lease: err %v, %d sends", err, email.count())
	}
	clk.Advance(notify.SendingLease + time.Second)
	if err := r.Notify(ctx, m); err != nil || email.count() != 1 {
		t.Fatalf("after the lease: err %v, %d sends", err, email.count())
	}
}
