package streamfeed

import (
	"errors"
	"fmt"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/goodfaith/goodfaith/internal/store"
	"github.com/goodfaith/goodfaith/internal/store/dynamo"
)

// changesFromRecords converts records read from the Streams API into
// changes, leaving out the feed's own checkpoint records. They take the
// shape a Lambda function subscribed to the stream receives, so that one
// decoder (dynamo.ChangesFromEvent) reads the stream in both homes of the
// handlers.
func changesFromRecords(records []streamtypes.Record) ([]store.Change, error) {
	e := events.DynamoDBEvent{Records: make([]events.DynamoDBEventRecord, 0, len(records))}
	for i, r := range records {
		er, err := eventRecord(r)
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
		e.Records = append(e.Records, er)
	}
	return dynamo.ChangesFromEvent(e)
}

// eventRecord is r as the stream's Lambda event carries it.
func eventRecord(r streamtypes.Record) (events.DynamoDBEventRecord, error) {
	sr := r.Dynamodb
	if sr == nil {
		return events.DynamoDBEventRecord{}, errors.New("streamfeed: stream record without a change")
	}
	er := events.DynamoDBEventRecord{
		EventID:   aws.ToString(r.EventID),
		EventName: string(r.EventName),
		Change: events.DynamoDBStreamRecord{
			Keys:           eventAttributes(sr.Keys),
			OldImage:       eventAttributes(sr.OldImage),
			NewImage:       eventAttributes(sr.NewImage),
			SequenceNumber: aws.ToString(sr.SequenceNumber),
		},
	}
	if sr.ApproximateCreationDateTime != nil {
		er.Change.ApproximateCreationDateTime = events.SecondsEpochTime{Time: *sr.ApproximateCreationDateTime}
	}
	return er, nil
}

// eventAttributes converts the attributes of the types the store writes
// (S, N and B; package dynamo's schema). An attribute of another type
// becomes NULL, which the decoder refuses where it reads the attribute, as
// it refuses the same record from the Lambda event.
func eventAttributes(m map[string]streamtypes.AttributeValue) map[string]events.DynamoDBAttributeValue {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]events.DynamoDBAttributeValue, len(m))
	for name, av := range m {
		switch v := av.(type) {
		case *streamtypes.AttributeValueMemberS:
			out[name] = events.NewStringAttribute(v.Value)
		case *streamtypes.AttributeValueMemberN:
			out[name] = events.NewNumberAttribute(v.Value)
		case *streamtypes.AttributeValueMemberB:
			out[name] = events.NewBinaryAttribute(v.Value)
		default:
			out[name] = events.NewNullAttribute()
		}
	}
	return out
}
