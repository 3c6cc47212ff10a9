package queue

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/goodfaith/goodfaith/internal/clock"
)

// Memory is the in-process queue of the local server: messages live in
// memory (a restart loses them; the store's records are re-driven, see
// webhook), visibility and delays follow the injected clock.
type Memory struct {
	Clock clock.Clock // nil: the system clock

	mu       sync.Mutex
	seq      int
	messages []*memMessage
	ready    chan struct{}
}

type memMessage struct {
	id        string
	body      string
	visibleAt time.Time
	receipt   string
	received  int
}

var _ Queue = (*Memory)(nil)

func (m *Memory) now() time.Time {
	if m.Clock == nil {
		return time.Now()
	}
	return m.Clock.Now()
}

// Ready is signalled (without blocking) when a message is sent without a
// delay, so a polling consumer can start at once.
func (m *Memory) Ready() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ready == nil {
		m.ready = make(chan struct{}, 1)
	}
	return m.ready
}

// Send implements Sender.
func (m *Memory) Send(_ context.Context, body string, delay time.Duration) error {
	if err := CheckSend(body, delay); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seq++
	at := m.now().Add(CeilSecond(delay))
	m.messages = append(m.messages, &memMessage{id: "mem-" + strconv.Itoa(m.seq), body: body, visibleAt: at})
	if delay == 0 && m.ready != nil {
		select {
		case m.ready <- struct{}{}:
		default:
		}
	}
	return nil
}

// Receive implements Receiver: the visible messages, oldest first.
func (m *Memory) Receive(_ context.Context, max int, visibility time.Duration) ([]Message, error) {
	if err := CheckReceive(max, visibility); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	var out []Message
	for _, msg := range m.messages {
		if len(out) == max {
			break
		}
		if msg.visibleAt.After(now) {
			continue
		}
		m.seq++
		msg.received++
		msg.receipt = msg.id + "#" + strconv.Itoa(m.seq)
		msg.visibleAt = now.Add(visibility)
		out = append(out, Message{ID: msg.id, Body: msg.body, Receipt: msg.receipt, ReceiveCount: msg.received})
	}
	return out, nil
}

// Delete implements Receiver. A stale receipt (the message was received
// again since) deletes nothing, as the message is someone else's now.
func (m *Memory) Delete(_ context.Context, receipt string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, msg := range m.messages {
		if msg.receipt == receipt && receipt != "" {
			m.messages = append(m.messages[:i], m.messages[i+1:]...)
			return nil
		}
	}
	return nil
}

// Len is how many messages the queue holds, visible or not.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.messages)
}
