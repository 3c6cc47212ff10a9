// Package notify is the notifier port: messages to people by email or SMS.
// In AWS the adapters are SES and SNS; on one machine the Outbox keeps each
// message in the store and logs that it was sent (without its content,
// which may carry PHI), so nothing is lost and a demo can show it.
package notify

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/goodfaith/goodfaith/internal/store"
)

// Message is one notification. ID makes sending idempotent: a message with
// an ID already sent is not sent again.
type Message struct {
	ID      string    `json:"id"`
	To      string    `json:"to"`      // a provider id, an email address or a phone number
	Channel string    `json:"channel"` // console | email | sms
	Subject string    `json:"subject"`
	Body    string    `json:"body"`
	At      time.Time `json:"at"`
}

// Notifier sends messages.
type Notifier interface {
	Notify(ctx context.Context, m Message) error
}

// Outbox is the local notifier.
type Outbox struct {
	Store store.Store
	Log   *slog.Logger
}

var _ Notifier = Outbox{}

// Notify keeps m in the outbox once and logs it.
func (o Outbox) Notify(ctx context.Context, m Message) error {
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	it := store.Item{PK: "OUTBOX#" + m.ID, SK: "MSG", GSI1PK: "OUTBOX", GSI1SK: store.SortableTime(m.At) + "#" + m.ID, Version: 1, Data: data}
	err = o.Store.Put(ctx, it, store.IfAbsent)
	if errors.Is(err, store.ErrConditionFailed) {
		return nil // sent already: a redelivered change must not notify twice
	}
	if err != nil {
		return err
	}
	to := m.To
	if m.Channel != "console" {
		to = "(" + m.Channel + " address withheld)" // a patient's email or phone is PHI: never logged
	}
	o.Log.InfoContext(ctx, "notification", "id", m.ID, "channel", m.Channel, "to", to, "subject", m.Subject)
	return nil
}

// List returns the newest outbox messages, newest first.
func (o Outbox) List(ctx context.Context, limit int) ([]Message, error) {
	page, err := o.Store.Query(ctx, store.Query{Index: store.ByGSI1, PK: "OUTBOX", Descending: true, Limit: limit})
	if err != nil {
		return nil, err
	}
	out := make([]Message, 0, len(page.Items))
	for _, it := range page.Items {
		var m Message
		if err := json.Unmarshal(it.Data, &m); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}
