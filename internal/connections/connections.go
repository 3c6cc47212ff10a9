package connections

import (
	"context"
	"errors"
	"sync"
)

// ErrGone is returned by Send when the connection no longer exists (API
// Gateway's 410 GoneException, or a closed local socket). The caller should
// forget the connection.
var ErrGone = errors.New("connections: connection is gone")

// Sender delivers one message to one WebSocket connection.
type Sender interface {
	Send(ctx context.Context, connectionID string, msg []byte) error
}

// SendFunc writes a message to one local socket.
type SendFunc func(ctx context.Context, msg []byte) error

// Hub is the local adapter: the local server's open sockets by
// connection id. It is safe for concurrent use.
type Hub struct {
	mu    sync.RWMutex
	conns map[string]SendFunc
}

var _ Sender = (*Hub)(nil)

// Add registers a socket under id; Remove forgets it.
func (h *Hub) Add(id string, send SendFunc) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.conns == nil {
		h.conns = map[string]SendFunc{}
	}
	h.conns[id] = send
}

// Remove forgets the socket id.
func (h *Hub) Remove(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.conns, id)
}

// Len is the number of open sockets.
func (h *Hub) Len() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.conns)
}

// IDs lists the open sockets' ids, in no order.
func (h *Hub) IDs() []string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	ids := make([]string, 0, len(h.conns))
	for id := range h.conns {
		ids = append(ids, id)
	}
	return ids
}

// Send writes msg to the socket id, or returns ErrGone if it is not open
// (or fails to take the message, which closes it).
func (h *Hub) Send(ctx context.Context, id string, msg []byte) error {
	h.mu.RLock()
	send, ok := h.conns[id]
	h.mu.RUnlock()
	if !ok {
		return ErrGone
	}
	if err := send(ctx, msg); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		h.Remove(id)
		return errors.Join(ErrGone, err)
	}
	return nil
}
