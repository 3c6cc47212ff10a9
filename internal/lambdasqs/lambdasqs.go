package lambdasqs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/aws/aws-lambda-go/events"

	"github.com/goodfaith/goodfaith/internal/lambdaschedule"
	"github.com/goodfaith/goodfaith/internal/queue"
	"github.com/goodfaith/goodfaith/internal/webhook"
)

// EventSource is the eventSource of SQS records.
const EventSource = "aws:sqs"

// ErrNotSQS is returned for an event holding a record that is not an SQS
// message or cannot be named.
var ErrNotSQS = errors.New("lambdasqs: not an SQS message")

// Handle handles a batch of messages and returns one error (nil: done) per
// message, in order.
type Handle func(ctx context.Context, msgs []queue.Message) []error

// Func is the Lambda handler signature.
type Func = func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)

// Handler runs handle over each event's messages and reports the failed
// ones by message id.
func Handler(name string, handle Handle, log *slog.Logger) Func {
	if log == nil {
		log = slog.Default()
	}
	return func(ctx context.Context, e events.SQSEvent) (events.SQSEventResponse, error) {
		msgs := make([]queue.Message, 0, len(e.Records))
		for i, r := range e.Records {
			if r.EventSource != EventSource || r.MessageId == "" {
				log.ErrorContext(ctx, "not an SQS message", "consumer", name, "record", i, "source", r.EventSource)
				return events.SQSEventResponse{}, fmt.Errorf("%w: record %d (source %q, id %q)", ErrNotSQS, i, r.EventSource, r.MessageId)
			}
			n, _ := strconv.Atoi(r.Attributes["ApproximateReceiveCount"])
			msgs = append(msgs, queue.Message{ID: r.MessageId, Body: r.Body, Receipt: r.ReceiptHandle, ReceiveCount: n})
		}
		resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
		for i, err := range handle(ctx, msgs) {
			if err == nil {
				continue
			}
			log.ErrorContext(ctx, "message failed; it comes back after its visibility timeout", "consumer", name,
				"message", msgs[i].ID, "receives", msgs[i].ReceiveCount, "error", err.Error())
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: msgs[i].ID})
		}
		log.InfoContext(ctx, "sqs batch", "consumer", name, "messages", len(msgs), "failed", len(resp.BatchItemFailures))
		return resp, nil
	}
}

// Webhooks is the webhook worker's Handle: each message is one delivery's
// job (webhook.Worker.HandleBatch).
func Webhooks(w *webhook.Worker) Handle {
	return func(ctx context.Context, msgs []queue.Message) []error {
		results := w.HandleBatch(ctx, msgs)
		errs := make([]error, len(results))
		for i, r := range results {
			errs[i] = r.Err
		}
		return errs
	}
}

// WithSchedule is a handler for a function invoked both by an SQS event
// source and by a schedule: an event with Records goes to onMessages, any
// other to onSchedule (which refuses what is not a scheduled event).
func WithSchedule(onMessages Func, onSchedule lambdaschedule.Func) func(context.Context, json.RawMessage) (any, error) {
	return func(ctx context.Context, raw json.RawMessage) (any, error) {
		var probe struct {
			Records json.RawMessage `json:"Records"`
		}
		if err := json.Unmarshal(raw, &probe); err != nil {
			return nil, fmt.Errorf("lambdasqs: event is not a JSON object: %w", err)
		}
		if len(probe.Records) > 0 && string(probe.Records) != "null" {
			var e events.SQSEvent
			if err := json.Unmarshal(raw, &e); err != nil {
				return nil, fmt.Errorf("%w: %v", ErrNotSQS, err)
			}
			return onMessages(ctx, e)
		}
		var e events.EventBridgeEvent
		if err := json.Unmarshal(raw, &e); err != nil {
			return nil, fmt.Errorf("%w: %v", lambdaschedule.ErrNotScheduled, err)
		}
		return onSchedule(ctx, e)
	}
}
