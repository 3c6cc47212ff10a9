package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/store"
)

// Sender hands one message to a delivery service (SES, SNS). It is not
// idempotent by itself: the Router makes it so.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Fates of a routed message, kept on its outbox record.
const (
	StatusSending = "sending"
	StatusSent    = "sent"
	StatusFailed  = "failed"
)

// SendingLease is how long a "sending" record blocks another attempt of
// the same message. A sender that died mid-send leaves such a record; after
// the lease the message may be tried again (the only case where a message
// can go out twice: the service took it and the process died before the
// fate was written).
const SendingLease = 2 * time.Minute

// ErrInFlight: the same message is being sent by another attempt right now.
var ErrInFlight = errors.New("notify: the message is being sent by another attempt")

// Router is the AWS notifier: it routes each message by channel to its
// Sender (email → SES, sms → SNS) and keeps every message in the outbox,
// whose record is the de-duplication marker. A message is sent only by the
// attempt whose marker write succeeded, so a retry with the same ID never
// sends twice; the record then carries the send's fate, and a failed
// message may be retried under the same ID. Channels without a Sender
// (console, or email/sms when not configured) stay in the outbox, as with
// Outbox.
type Router struct {
	Store   store.Store
	Log     *slog.Logger
	Clock   clock.Clock // default: system
	Senders map[string]Sender
}

var _ Notifier = Router{}

// record is an outbox item: the message and, for a routed one, its fate.
// Outbox.List reads it as a Message.
type record struct {
	Message
	Status   string    `json:"status,omitempty"`
	Error    string    `json:"error,omitempty"`
	Attempts int       `json:"attempts,omitempty"`
	Updated  time.Time `json:"updated_at,omitzero"`
}

// Notify sends m once through its channel's sender, or keeps it in the
// outbox when the channel has none.
func (r Router) Notify(ctx context.Context, m Message) error {
	sender := r.Senders[m.Channel]
	if sender == nil {
		return Outbox{Store: r.Store, Log: r.Log}.Notify(ctx, m)
	}
	now := r.now()
	rec := record{Message: m, Status: StatusSending, Attempts: 1, Updated: now}
	version, err := r.claim(ctx, &rec)
	if err != nil {
		return err
	}
	if version == 0 {
		return nil // sent already
	}
	sendErr := sender.Send(ctx, m)
	rec.Status, rec.Updated = StatusSent, r.now()
	if sendErr != nil {
		rec.Status, rec.Error = StatusFailed, sendErr.Error() // service errors name no address or body
	}
	// The fate is written even when ctx ended: a context of its own.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := r.put(wctx, rec, store.IfVersion(version), version+1); err != nil && sendErr == nil {
		// Sent, but the fate is not recorded: the record stays "sending"
		// and blocks resends for the lease. Report success: it went out.
		r.Log.ErrorContext(ctx, "notification fate not recorded", "id", m.ID, "error", err.Error())
	}
	r.Log.InfoContext(ctx, "notification", "id", m.ID, "channel", m.Channel, "to", "("+m.Channel+" address withheld)", "status", rec.Status)
	if sendErr != nil {
		return fmt.Errorf("notify: %s %s: %w", m.Channel, m.ID, sendErr)
	}
	return nil
}

// claim writes the marker of a new attempt (counting it in rec) and
// returns its version, or 0 when the message was sent already.
func (r Router) claim(ctx context.Context, rec *record) (int64, error) {
	err := r.put(ctx, *rec, store.IfAbsent, 1)
	if err == nil {
		return 1, nil
	}
	if !errors.Is(err, store.ErrConditionFailed) {
		return 0, err
	}
	it, err := r.Store.Get(ctx, outboxKey(rec.ID))
	if err != nil {
		return 0, err
	}
	var old record
	if err := json.Unmarshal(it.Data, &old); err != nil {
		return 0, err
	}
	switch {
	case old.Status == StatusFailed:
	case old.Status == StatusSending && r.now().Sub(old.Updated) > SendingLease:
	case old.Status == StatusSending:
		return 0, ErrInFlight
	default: // sent, or kept by Outbox before routing existed
		return 0, nil
	}
	rec.Attempts = old.Attempts + 1
	if err := r.put(ctx, *rec, store.IfVersion(it.Version), it.Version+1); err != nil {
		if errors.Is(err, store.ErrConditionFailed) {
			return 0, ErrInFlight // another attempt took it first
		}
		return 0, err
	}
	return it.Version + 1, nil
}

func (r Router) put(ctx context.Context, rec record, cond store.Condition, version int64) error {
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	k := outboxKey(rec.ID)
	return r.Store.Put(ctx, store.Item{PK: k.PK, SK: k.SK, GSI1PK: "OUTBOX", GSI1SK: store.SortableTime(rec.At) + "#" + rec.ID, Version: version, Data: data}, cond)
}

func (r Router) now() time.Time {
	if r.Clock == nil {
		return time.Now().UTC()
	}
	return r.Clock.Now().UTC()
}

func outboxKey(id string) store.Key { return store.Key{PK: "OUTBOX#" + id, SK: "MSG"} }
