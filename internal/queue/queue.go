package queue

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// MaxDelay is the longest delay a message can be sent with: SQS's
// DelaySeconds limit (900). Callers that need longer waits send again when
// the message arrives early (see webhook's doc).
const MaxDelay = 15 * time.Minute

// MaxBatch is the most messages one Receive returns (SQS's limit).
const MaxBatch = 10

// ErrInvalid wraps every refusal of bad arguments (a delay out of range, an
// empty body, a batch size out of range); nothing is sent.
var ErrInvalid = errors.New("queue: invalid argument")

// Message is a received message.
type Message struct {
	ID   string
	Body string
	// Receipt deletes this receipt of the message (each receive issues a
	// new one).
	Receipt string
	// ReceiveCount is how many times the message has been received,
	// this time included.
	ReceiveCount int
}

// Sender sends messages: what producers need.
type Sender interface {
	// Send queues body to be received no sooner than delay from now
	// (0 ≤ delay ≤ MaxDelay, whole seconds as SQS counts them).
	Send(ctx context.Context, body string, delay time.Duration) error
}

// Receiver takes messages off the queue: what a consumer that polls needs
// (in AWS, Lambda's event source mapping polls instead).
type Receiver interface {
	// Receive returns up to max (1..MaxBatch) visible messages, hiding each
	// for visibility; none when nothing is visible (it does not wait).
	Receive(ctx context.Context, max int, visibility time.Duration) ([]Message, error)
	// Delete removes the message a receipt came from. Deleting one that is
	// already gone is not an error.
	Delete(ctx context.Context, receipt string) error
}

// Queue is both sides.
type Queue interface {
	Sender
	Receiver
}

// CheckSend validates Send's arguments; adapters call it first.
func CheckSend(body string, delay time.Duration) error {
	if body == "" {
		return fmt.Errorf("%w: empty message body", ErrInvalid)
	}
	if delay < 0 || delay > MaxDelay {
		return fmt.Errorf("%w: delay %s is outside 0..%s", ErrInvalid, delay, MaxDelay)
	}
	return nil
}

// CheckReceive validates Receive's arguments; adapters call it first.
func CheckReceive(max int, visibility time.Duration) error {
	if max < 1 || max > MaxBatch {
		return fmt.Errorf("%w: batch size %d is outside 1..%d", ErrInvalid, max, MaxBatch)
	}
	if visibility < time.Second || visibility > 12*time.Hour {
		return fmt.Errorf("%w: visibility timeout %s is outside 1s..12h", ErrInvalid, visibility)
	}
	return nil
}

// CeilSecond rounds a duration up to whole seconds, the granularity of a
// queue's delays (SQS DelaySeconds): a message is never received before
// its delay, and a retry computed with it is never due before its job
// arrives. The one rounding of delays; callers use it rather than their own.
func CeilSecond(d time.Duration) time.Duration {
	if rem := d % time.Second; rem > 0 {
		d += time.Second - rem
	}
	return d
}
