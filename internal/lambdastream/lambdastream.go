package lambdastream

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/goodfaith/goodfaith/internal/store"
	"github.com/goodfaith/goodfaith/internal/store/dynamo"
)

// Func is a Lambda handler of DynamoDB Streams events that reports partial
// batch failures.
type Func = func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error)

// Option tunes a Handler.
type Option func(*options)

type options struct {
	log  *slog.Logger
	name string
}

// WithLogger sets where failures are logged (default slog.Default()).
// Logged are the consumer's name, sequence numbers and error messages,
// never item contents.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithName names the consumer in the log.
func WithName(name string) Option { return func(o *options) { o.name = name } }

// Handler returns the Lambda handler that feeds handle from stream events,
// as the package documentation describes.
func Handler(handle store.ChangeHandler, opts ...Option) Func {
	o := options{log: slog.Default()}
	for _, opt := range opts {
		opt(&o)
	}
	return func(ctx context.Context, e events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		return failuresFrom(e.Records, o.process(ctx, handle, e.Records))
	}
}

// process handles records and returns the index of the first record not
// processed (len(records) when all were).
func (o options) process(ctx context.Context, handle store.ChangeHandler, records []events.DynamoDBEventRecord) int {
	end := len(records)
	var changes []store.Change
	var from []int // from[j] is the record of changes[j]
	for i, r := range records {
		cs, err := dynamo.ChangesFromEvent(events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{r}})
		if err != nil {
			o.log.ErrorContext(ctx, "stream record cannot be converted; it and the records after it are reported as failures",
				"consumer", o.name, "sequence_number", r.Change.SequenceNumber, "error", err.Error())
			end = i
			break
		}
		for _, c := range cs {
			changes = append(changes, c)
			from = append(from, i)
		}
	}
	if len(changes) == 0 {
		return end
	}
	err := handle(ctx, changes)
	if err == nil {
		return end
	}
	o.log.WarnContext(ctx, "change batch failed; retrying its changes one by one to find the failing one",
		"consumer", o.name, "changes", len(changes), "error", err.Error())
	for j := range changes {
		if err := ctx.Err(); err != nil {
			o.log.ErrorContext(ctx, "stopped before every change was retried", "consumer", o.name,
				"sequence_number", records[from[j]].Change.SequenceNumber, "error", err.Error())
			return from[j]
		}
		if err := handle(ctx, changes[j:j+1]); err != nil {
			o.log.ErrorContext(ctx, "change failed; it and the records after it are reported as failures", "consumer", o.name,
				"sequence_number", records[from[j]].Change.SequenceNumber, "error", err.Error())
			return from[j]
		}
	}
	return end
}

// failuresFrom reports records[at:] as failures.
func failuresFrom(records []events.DynamoDBEventRecord, at int) (events.DynamoDBEventResponse, error) {
	resp := events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{}}
	for i := at; i < len(records); i++ {
		seq := records[i].Change.SequenceNumber
		if seq == "" {
			return events.DynamoDBEventResponse{}, fmt.Errorf("lambdastream: record %d (event %s) failed and has no sequence number to report; retrying the whole batch", i, records[i].EventID)
		}
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: seq})
	}
	return resp, nil
}

// Sequence runs handlers one after the other over each event. Each handler
// gets the records that every earlier one processed; the response reports
// every record from the earliest failing position of any handler. An error
// of a handler is returned at once, so Lambda retries the whole batch.
func Sequence(handlers ...Func) Func {
	return func(ctx context.Context, e events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		end := len(e.Records)
		for _, h := range handlers {
			if end == 0 {
				break
			}
			sub := events.DynamoDBEvent{Records: e.Records[:end]}
			resp, err := h(ctx, sub)
			if err != nil {
				return events.DynamoDBEventResponse{}, err
			}
			end = min(end, firstReported(sub.Records, resp))
		}
		return failuresFrom(e.Records, end)
	}
}

// firstReported is the index of the earliest record resp reports, or
// len(records) if none. An identifier that names no record counts as the
// whole batch failing.
func firstReported(records []events.DynamoDBEventRecord, resp events.DynamoDBEventResponse) int {
	if len(resp.BatchItemFailures) == 0 {
		return len(records)
	}
	index := make(map[string]int, len(records))
	for i, r := range records {
		if _, dup := index[r.Change.SequenceNumber]; !dup {
			index[r.Change.SequenceNumber] = i
		}
	}
	first := len(records)
	for _, f := range resp.BatchItemFailures {
		i, ok := index[f.ItemIdentifier]
		if !ok || f.ItemIdentifier == "" {
			return 0
		}
		first = min(first, i)
	}
	return first
}
