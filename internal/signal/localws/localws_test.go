package localws_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/goodfaith/goodfaith/internal/app/localhome"
	"github.com/goodfaith/goodfaith/internal/connections"
	"github.com/goodfaith/goodfaith/internal/signal"
	"github.com/goodfaith/goodfaith/internal/signal/localws"
	"github.com/goodfaith/goodfaith/internal/signal/signaltest"
)

// serve serves f's local endpoint; it returns the endpoint and the
// server's URL.
func serve(t *testing.T, f *signaltest.Fixture) (*localws.Endpoint, string) {
	t.Helper()
	ep := localhome.Signal(f.App)
	mux := http.NewServeMux()
	mux.Handle(localws.Path, ep)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { srv.Close(); ep.Close() })
	return ep, srv.URL
}

// dial opens a socket to the endpoint served at url, with token.
func dial(t *testing.T, url, token string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http")+localws.Path+"?token="+token, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	ws.SetReadLimit(1 << 20)
	return ws
}

// open serves a fixture's local endpoint and dials it as the patient of a
// queued video exam; it returns the endpoint and the client's socket.
func open(t *testing.T) (*localws.Endpoint, *websocket.Conn) {
	t.Helper()
	f := signaltest.New(t)
	id := f.QueuedVideoExam("exam_ws1")
	ep, url := serve(t, f)
	ws := dial(t, url, f.PatientToken(id))
	// The connection is registered just after the upgrade; a hub that never
	// registers it fails the test instead of hanging it.
	for deadline := time.Now().Add(5 * time.Second); ep.Hub.Len() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the hub did not register the connection within 5 s")
		}
	}
	return ep, ws
}

func onlyConnection(t *testing.T, ep *localws.Endpoint) string {
	t.Helper()
	ids := ep.Hub.IDs()
	if len(ids) != 1 {
		t.Fatalf("hub holds %v", ids)
	}
	return ids[0]
}

// Messages are queued and written in the order they were sent.
func TestMessagesArriveInOrder(t *testing.T) {
	ep, ws := open(t)
	id := onlyConnection(t, ep)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	const batch = localws.OutboxSize / 2 // a burst the outbox holds
	for round := range 4 {
		for i := range batch {
			if err := ep.Hub.Send(ctx, id, []byte{'a' + byte((round*batch+i)%26)}); err != nil {
				t.Fatalf("send %d of round %d: %v", i, round, err)
			}
		}
		for i := range batch {
			_, b, err := ws.Read(ctx)
			if err != nil {
				t.Fatalf("read %d of round %d: %v", i, round, err)
			}
			if want := []byte{'a' + byte((round*batch+i)%26)}; !bytes.Equal(b, want) {
				t.Fatalf("message %d of round %d is %q, want %q", i, round, b, want)
			}
		}
	}
}

// A client that stops reading fills its outbox: the hub answers gone (the
// handler then drops the connection) and the socket is closed, so the
// client reconnects instead of hanging.
func TestAClientThatDoesNotReadIsGone(t *testing.T) {
	ep, ws := open(t)
	id := onlyConnection(t, ep)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	big := bytes.Repeat([]byte("x"), 60<<10)
	var err error
	for i := 0; i < 10*localws.OutboxSize && err == nil; i++ {
		err = ep.Hub.Send(ctx, id, big)
	}
	if !errors.Is(err, connections.ErrGone) {
		t.Fatalf("sending to a client that does not read: %v, want ErrGone", err)
	}
	// The socket closes: reading drains what was written, then fails.
	for {
		if _, _, err := ws.Read(ctx); err != nil {
			if ctx.Err() != nil {
				t.Fatal("the socket of a client that did not read stayed open")
			}
			break
		}
	}
}

// The app's connections sweep tells a room through the local endpoint's
// hub: when the patient's connection record expires (its disconnect was
// lost), the provider in the room is told the patient left, on its socket.
func TestSweepTellsTheRoomThroughTheEndpoint(t *testing.T) {
	f := signaltest.New(t)
	id := f.QueuedVideoExam("exam_ws2")
	_, url := serve(t, f)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	say := func(ws *websocket.Conn, m map[string]string) {
		t.Helper()
		b, _ := json.Marshal(m)
		if err := ws.Write(ctx, websocket.MessageText, b); err != nil {
			t.Fatal(err)
		}
	}
	// await reads ws until a message of type typ arrives.
	await := func(ws *websocket.Conn, who, typ string) map[string]any {
		t.Helper()
		for {
			_, b, err := ws.Read(ctx)
			if err != nil {
				t.Fatalf("%s: no %q message: %v", who, typ, err)
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatalf("%s: %q: %v", who, b, err)
			}
			if m["type"] == typ {
				return m
			}
		}
	}

	patient := dial(t, url, f.PatientToken(id))
	say(patient, map[string]string{"type": "join", "exam_id": id})
	await(patient, "patient", "join")
	// The provider connects later, so that only the patient's record has
	// expired when the sweep runs.
	f.Clock.Advance(signal.ConnTTL / 2)
	provider := dial(t, url, f.ProviderToken("prov_tx_md"))
	say(provider, map[string]string{"type": "ring", "exam_id": id, "action": "accept"})
	await(provider, "provider", "join")

	f.Clock.Advance(signal.ConnTTL/2 + time.Second)
	if n, err := f.App.SweepConnections(ctx); err != nil || n != 1 {
		t.Fatalf("sweep: dropped %d, %v; want the patient's connection", n, err)
	}
	if l := await(provider, "provider", "leave"); l["from"] != "patient" || l["reason"] != signal.ReasonExpired || l["exam_id"] != id {
		t.Fatalf("provider told %v", l)
	}
}
