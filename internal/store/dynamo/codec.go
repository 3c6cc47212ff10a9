package dynamo

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/goodfaith/goodfaith/internal/store"
)

// Attribute names of the single table. doc.go documents the schema.
const (
	attrPK      = "pk"
	attrSK      = "sk"
	attrGSI1PK  = "gsi1pk"
	attrGSI1SK  = "gsi1sk"
	attrGSI2PK  = "gsi2pk"
	attrGSI2SK  = "gsi2sk"
	attrGSI3PK  = "gsi3pk"
	attrGSI3SK  = "gsi3sk"
	attrVersion = "v"
	attrTTL     = "ttl"
	attrData    = "data"

	gsi1Name = "gsi1"
	gsi2Name = "gsi2"
	gsi3Name = "gsi3"
)

// CheckpointPrefix starts the partition key of the change feed's
// checkpoint items (package streamfeed). Domain keys never start with it;
// the Store methods refuse to write it (PutCheckpoint writes it), Scan
// leaves it out and ChangesFromEvent leaves out its changes.
const CheckpointPrefix = "CHECKPOINT#"

func isCheckpointPK(pk string) bool { return strings.HasPrefix(pk, CheckpointPrefix) }

// errEmptyKey is returned for an item or key whose PK or SK is empty:
// DynamoDB cannot store an empty string in a key attribute.
var errEmptyKey = errors.New("dynamo: PK and SK must not be empty")

// checkKey validates a key a caller of the Store methods gave.
func checkKey(k store.Key) error {
	if k.PK == "" || k.SK == "" {
		return fmt.Errorf("%w (got %q, %q)", errEmptyKey, k.PK, k.SK)
	}
	if isCheckpointPK(k.PK) {
		return fmt.Errorf("dynamo: partition keys starting with %q are reserved for the change feed's checkpoints", CheckpointPrefix)
	}
	return nil
}

// checkItem validates an item a caller of the Store methods wants to write.
// An index partition key without its sort key is refused: DynamoDB cannot
// store the empty sort key and would silently leave the item out of the
// index, and the embedded adapter refuses it too.
func checkItem(it store.Item) error {
	if err := checkKey(it.Key()); err != nil {
		return err
	}
	if it.GSI1PK != "" && it.GSI1SK == "" {
		return errors.New("dynamo: GSI1PK is set but GSI1SK is empty")
	}
	if it.GSI2PK != "" && it.GSI2SK == "" {
		return errors.New("dynamo: GSI2PK is set but GSI2SK is empty")
	}
	if it.GSI3PK != "" && it.GSI3SK == "" {
		return errors.New("dynamo: GSI3PK is set but GSI3SK is empty")
	}
	return nil
}

// encodeItem turns an item into its table attributes. Empty index keys,
// a zero ExpiresAt and empty Data are left out, so that the item leaves the
// index, never expires, or has no data.
func encodeItem(it store.Item) map[string]types.AttributeValue {
	m := map[string]types.AttributeValue{
		attrPK:      &types.AttributeValueMemberS{Value: it.PK},
		attrSK:      &types.AttributeValueMemberS{Value: it.SK},
		attrVersion: &types.AttributeValueMemberN{Value: strconv.FormatInt(it.Version, 10)},
	}
	for _, a := range []struct{ name, value string }{
		{attrGSI1PK, it.GSI1PK}, {attrGSI1SK, it.GSI1SK},
		{attrGSI2PK, it.GSI2PK}, {attrGSI2SK, it.GSI2SK},
		{attrGSI3PK, it.GSI3PK}, {attrGSI3SK, it.GSI3SK},
	} {
		if a.value != "" {
			m[a.name] = &types.AttributeValueMemberS{Value: a.value}
		}
	}
	if !it.ExpiresAt.IsZero() {
		m[attrTTL] = &types.AttributeValueMemberN{Value: strconv.FormatInt(it.ExpiresAt.Unix(), 10)}
	}
	if len(it.Data) > 0 {
		m[attrData] = &types.AttributeValueMemberB{Value: it.Data}
	}
	return m
}

func keyAttrs(k store.Key) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK: &types.AttributeValueMemberS{Value: k.PK},
		attrSK: &types.AttributeValueMemberS{Value: k.SK},
	}
}

// attrs reads typed attributes out of one of the two shapes an item comes
// in: the DynamoDB API's and the stream's Lambda event's (the Streams API's
// records are converted to the latter: package streamfeed).
type attrs interface {
	// get returns the attribute's type ("S", "N", "B", or another DynamoDB
	// type name), its value as text for S and N, and its bytes for B.
	get(name string) (typ, text string, bin []byte, ok bool)
	empty() bool
}

type tableAttrs map[string]types.AttributeValue

func (m tableAttrs) empty() bool { return len(m) == 0 }

func (m tableAttrs) get(name string) (string, string, []byte, bool) {
	av, ok := m[name]
	if !ok {
		return "", "", nil, false
	}
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return "S", v.Value, nil, true
	case *types.AttributeValueMemberN:
		return "N", v.Value, nil, true
	case *types.AttributeValueMemberB:
		return "B", "", v.Value, true
	default:
		return fmt.Sprintf("%T", av), "", nil, true
	}
}

type eventAttrs map[string]events.DynamoDBAttributeValue

func (m eventAttrs) empty() bool { return len(m) == 0 }

func (m eventAttrs) get(name string) (string, string, []byte, bool) {
	av, ok := m[name]
	if !ok {
		return "", "", nil, false
	}
	switch av.DataType() {
	case events.DataTypeString:
		return "S", av.String(), nil, true
	case events.DataTypeNumber:
		return "N", av.Number(), nil, true
	case events.DataTypeBinary:
		return "B", "", av.Binary(), true
	default:
		return fmt.Sprintf("type %d", av.DataType()), "", nil, true
	}
}

func getString(m attrs, name string, required bool) (string, error) {
	typ, text, _, ok := m.get(name)
	switch {
	case !ok && required:
		return "", fmt.Errorf("dynamo: item has no %q attribute", name)
	case !ok:
		return "", nil
	case typ != "S":
		return "", fmt.Errorf("dynamo: attribute %q is %s, want S", name, typ)
	}
	return text, nil
}

// getInt reads a whole number. A fraction (never written by this adapter)
// is truncated rather than refused, since a TTL set by other tooling may
// carry one.
func getInt(m attrs, name string) (int64, bool, error) {
	typ, text, _, ok := m.get(name)
	if !ok {
		return 0, false, nil
	}
	if typ != "N" {
		return 0, false, fmt.Errorf("dynamo: attribute %q is %s, want N", name, typ)
	}
	if n, err := strconv.ParseInt(text, 10, 64); err == nil {
		return n, true, nil
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return 0, false, fmt.Errorf("dynamo: attribute %q: %w", name, err)
	}
	return int64(f), true, nil
}

// decodeItem reads an item written by encodeItem.
func decodeItem(m attrs) (store.Item, error) {
	var it store.Item
	var err error
	for _, f := range []struct {
		name     string
		dst      *string
		required bool
	}{
		{attrPK, &it.PK, true}, {attrSK, &it.SK, true},
		{attrGSI1PK, &it.GSI1PK, false}, {attrGSI1SK, &it.GSI1SK, false},
		{attrGSI2PK, &it.GSI2PK, false}, {attrGSI2SK, &it.GSI2SK, false},
		{attrGSI3PK, &it.GSI3PK, false}, {attrGSI3SK, &it.GSI3SK, false},
	} {
		if *f.dst, err = getString(m, f.name, f.required); err != nil {
			return store.Item{}, err
		}
	}
	if it.Version, _, err = getInt(m, attrVersion); err != nil {
		return store.Item{}, err
	}
	ttl, ok, err := getInt(m, attrTTL)
	if err != nil {
		return store.Item{}, err
	}
	if ok {
		it.ExpiresAt = time.Unix(ttl, 0).UTC()
	}
	if typ, _, bin, ok := m.get(attrData); ok {
		if typ != "B" {
			return store.Item{}, fmt.Errorf("dynamo: attribute %q is %s, want B", attrData, typ)
		}
		if len(bin) > 0 {
			it.Data = bin
		}
	}
	return it, nil
}

// decodeKey reads the primary key out of a stream record's Keys.
func decodeKey(m attrs) (store.Key, error) {
	pk, err := getString(m, attrPK, true)
	if err != nil {
		return store.Key{}, err
	}
	sk, err := getString(m, attrSK, true)
	if err != nil {
		return store.Key{}, err
	}
	return store.Key{PK: pk, SK: sk}, nil
}

// buildChange turns one stream record (ChangesFromEvent) into a change.
// skip is true for the feed's own checkpoint records.
func buildChange(eventName, seq string, at time.Time, keys, oldImage, newImage attrs) (c store.Change, skip bool, err error) {
	if seq == "" {
		return store.Change{}, false, errors.New("dynamo: stream record has no sequence number")
	}
	key, err := decodeKey(keys)
	if err != nil {
		return store.Change{}, false, fmt.Errorf("dynamo: stream record %s keys: %w", seq, err)
	}
	if isCheckpointPK(key.PK) {
		return store.Change{}, true, nil
	}
	var wantOld, wantNew bool
	switch eventName {
	case "INSERT":
		wantNew = true
	case "MODIFY":
		wantOld, wantNew = true, true
	case "REMOVE":
		wantOld = true
	default:
		return store.Change{}, false, fmt.Errorf("dynamo: stream record %s has event name %q", seq, eventName)
	}
	c = store.Change{ID: seq, Key: key, At: at.UTC()}
	image := func(which string, want bool, m attrs) (*store.Item, error) {
		if !want {
			return nil, nil
		}
		if m.empty() {
			return nil, fmt.Errorf("dynamo: %s stream record %s has no %s image; the table's stream must use NEW_AND_OLD_IMAGES", eventName, seq, which)
		}
		it, err := decodeItem(m)
		if err != nil {
			return nil, fmt.Errorf("dynamo: stream record %s %s image: %w", seq, which, err)
		}
		return &it, nil
	}
	if c.Old, err = image("old", wantOld, oldImage); err != nil {
		return store.Change{}, false, err
	}
	if c.New, err = image("new", wantNew, newImage); err != nil {
		return store.Change{}, false, err
	}
	return c, false, nil
}

// ChangesFromEvent converts the records of a DynamoDB Streams event, as a
// Lambda function subscribed to the table's stream receives it, into the
// changes the feed's handlers take, in the event's order. Records of the
// feed's own checkpoints are left out. The table's stream must carry
// NEW_AND_OLD_IMAGES.
func ChangesFromEvent(e events.DynamoDBEvent) ([]store.Change, error) {
	changes := make([]store.Change, 0, len(e.Records))
	for i, r := range e.Records {
		sr := r.Change
		c, skip, err := buildChange(r.EventName, sr.SequenceNumber, sr.ApproximateCreationDateTime.Time,
			eventAttrs(sr.Keys), eventAttrs(sr.OldImage), eventAttrs(sr.NewImage))
		if err != nil {
			return nil, fmt.Errorf("record %d (%s): %w", i, r.EventID, err)
		}
		if !skip {
			changes = append(changes, c)
		}
	}
	return changes, nil
}
