// Package localws is the local server's signaling endpoint, GET
// /v1/signal?token=…: it authenticates before upgrading to a WebSocket,
// registers the socket in a connections.Hub and hands every event to the
// same signal.Handler the API Gateway Lambda uses.
package localws

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/goodfaith/goodfaith/internal/connections"
	"github.com/goodfaith/goodfaith/internal/ids"
	"github.com/goodfaith/goodfaith/internal/signal"
)

// Path is where the endpoint is mounted.
const Path = "/v1/signal"

// WriteTimeout bounds one message write to a socket.
const WriteTimeout = 5 * time.Second

// OutboxSize is how many messages a socket may have waiting to be
// written. Messages are queued and written by one writer per socket, so the
// signaling handler never waits on a client's network (as in AWS, where
// PostToConnection returns once API Gateway has the message); a client so
// far behind that its outbox fills is treated as gone, and its socket is
// closed so that it reconnects.
const OutboxSize = 1024

// errOutboxFull is a Send to a socket whose outbox is full.
var errOutboxFull = errors.New("localws: the client is not reading its messages")

// MaxConnectionAge closes a socket after two hours, as API Gateway does
// with every WebSocket connection, so that the clients' reconnect is
// exercised locally too and no connection outlives its record
// (signal.ConnTTL), which the connections sweep would drop.
const MaxConnectionAge = 2 * time.Hour

// Endpoint serves signaling WebSockets.
type Endpoint struct {
	Handler *signal.Handler
	Hub     *connections.Hub
	IDs     ids.Generator
	Log     *slog.Logger

	mu     sync.Mutex
	open   map[string]*websocket.Conn
	wg     sync.WaitGroup
	closed bool
}

// ServeHTTP authenticates ?token=, upgrades, and runs the socket until it
// closes.
func (e *Endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "use GET with a WebSocket upgrade")
		return
	}
	id := e.IDs.New("conn")
	// The socket takes messages from the moment its connection is
	// recorded: a ring sent while the upgrade is under way waits in the
	// outbox (before, the hub did not know the id yet and answered gone,
	// and the handler dropped the new connection).
	out := &outbox{msgs: make(chan []byte, OutboxSize), full: make(chan struct{})}
	e.Hub.Add(id, out.send)
	if _, err := e.Handler.Connect(r.Context(), id, r.URL.Query().Get("token")); err != nil {
		e.Hub.Remove(id)
		if errors.Is(err, signal.ErrUnauthorized) {
			writeError(w, http.StatusUnauthorized, "unauthorized", "a valid patient token or provider token is required in ?token=")
			return
		}
		e.Log.ErrorContext(r.Context(), "signal connect failed", "error", err.Error())
		writeError(w, http.StatusServiceUnavailable, "unavailable", "signaling is unavailable; try again")
		return
	}
	// The token, not the Origin, is the credential: any page the widget is
	// embedded in may open the socket.
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: []string{"*"}})
	if err != nil {
		e.Hub.Remove(id)
		_ = e.Handler.Disconnect(context.WithoutCancel(r.Context()), id)
		return
	}
	if !e.track(id, ws) {
		e.Hub.Remove(id)
		ws.Close(websocket.StatusGoingAway, "server shutting down")
		_ = e.Handler.Disconnect(context.WithoutCancel(r.Context()), id)
		return
	}
	defer e.wg.Done()
	ws.SetReadLimit(signal.MaxMessageBytes)
	writerCtx, stopWriter := context.WithCancel(context.WithoutCancel(r.Context()))
	e.wg.Add(1)
	go e.write(writerCtx, ws, out)
	ctx, cancelAge := context.WithTimeout(r.Context(), MaxConnectionAge)
	defer cancelAge()
	defer func() {
		e.Hub.Remove(id)
		stopWriter()
		e.untrack(id)
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := e.Handler.Disconnect(dctx, id); err != nil {
			e.Log.ErrorContext(dctx, "signal disconnect failed", "error", err.Error())
		}
		ws.CloseNow()
	}()
	for {
		typ, data, err := ws.Read(ctx)
		if err != nil {
			return
		}
		if typ != websocket.MessageText {
			ws.Close(websocket.StatusUnsupportedData, "text JSON messages only")
			return
		}
		if err := e.Handler.Message(ctx, id, data); errors.Is(err, signal.ErrUnknownConnection) {
			ws.Close(websocket.StatusPolicyViolation, "connection is gone")
			return
		}
	}
}

// outbox holds one socket's messages until its writer writes them.
type outbox struct {
	msgs     chan []byte
	full     chan struct{} // closed when a message did not fit
	fullOnce sync.Once
}

// send queues msg, or reports the client gone when the outbox is full
// (the writer then closes the socket).
func (o *outbox) send(_ context.Context, msg []byte) error {
	select {
	case o.msgs <- msg:
		return nil
	default:
		o.fullOnce.Do(func() { close(o.full) })
		return errOutboxFull
	}
}

// write writes the socket's queued messages in order until ctx ends; a
// full outbox, or a write that fails or takes longer than WriteTimeout,
// closes the socket, which ends its read loop and so disconnects it.
func (e *Endpoint) write(ctx context.Context, ws *websocket.Conn, out *outbox) {
	defer e.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case <-out.full:
			ws.CloseNow()
			return
		case msg := <-out.msgs:
			wctx, cancel := context.WithTimeout(ctx, WriteTimeout)
			err := ws.Write(wctx, websocket.MessageText, msg)
			cancel()
			if err != nil {
				ws.CloseNow()
				return
			}
		}
	}
}

func (e *Endpoint) track(id string, ws *websocket.Conn) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return false
	}
	if e.open == nil {
		e.open = map[string]*websocket.Conn{}
	}
	e.open[id] = ws
	e.wg.Add(1)
	return true
}

func (e *Endpoint) untrack(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.open, id)
}

// Close closes every open socket and waits for their handlers to finish
// (http.Server.Shutdown does not wait for hijacked connections).
func (e *Endpoint) Close() {
	e.mu.Lock()
	e.closed = true
	for _, ws := range e.open {
		ws.CloseNow()
	}
	e.mu.Unlock()
	e.wg.Wait()
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": msg}})
}
