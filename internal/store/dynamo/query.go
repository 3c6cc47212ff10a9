package dynamo

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/goodfaith/goodfaith/internal/store"
)

// index describes where a query looks: the index name (empty for the
// table) and its key attributes.
type index struct {
	name       string
	pk, sk     string
	consistent bool
}

func indexOf(i store.Index) (index, error) {
	switch i {
	case store.Primary:
		return index{pk: attrPK, sk: attrSK, consistent: true}, nil
	case store.ByGSI1:
		return index{name: gsi1Name, pk: attrGSI1PK, sk: attrGSI1SK}, nil
	case store.ByGSI2:
		return index{name: gsi2Name, pk: attrGSI2PK, sk: attrGSI2SK}, nil
	case store.ByGSI3:
		return index{name: gsi3Name, pk: attrGSI3PK, sk: attrGSI3SK}, nil
	default:
		return index{}, fmt.Errorf("dynamo: unknown index %d", i)
	}
}

// cursorAttrs lists the attributes of a page's last evaluated key: the
// table's key, plus the index's for a global secondary index.
func (ix index) cursorAttrs() []string {
	if ix.name == "" {
		return []string{attrPK, attrSK}
	}
	return []string{attrPK, attrSK, ix.pk, ix.sk}
}

// maxQueryCalls bounds the DynamoDB calls one Query makes to fill a page.
// Each call returns at least one item unless DynamoDB misbehaves, so a
// page needs at most MaxQueryLimit+1 of them; in practice a call returns up
// to 1 MB of items.
const maxQueryCalls = store.MaxQueryLimit + 1

// Query returns one page of the items sharing q.PK in the index, ordered
// by the index's sort key. Pages are full (Limit items) except the last, and
// the page before an end carries no cursor: the adapter reads one item past
// the limit to know whether more follow.
func (s *Store) Query(ctx context.Context, q store.Query) (store.Page, error) {
	ix, err := indexOf(q.Index)
	if err != nil {
		return store.Page{}, err
	}
	if q.PK == "" {
		return store.Page{}, fmt.Errorf("dynamo: query: empty partition key")
	}
	limit := q.Limit
	if limit <= 0 || limit > store.MaxQueryLimit {
		limit = store.MaxQueryLimit
	}
	var start map[string]types.AttributeValue
	if q.Cursor != "" {
		if start, err = decodeCursor(q.Cursor, ix, q); err != nil {
			return store.Page{}, err
		}
	}

	keyCond := "#pk = :pk"
	names := map[string]string{"#pk": ix.pk}
	values := map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: q.PK}}
	switch {
	case q.SKPrefix != "" && q.SKAtMost != "":
		return store.Page{}, errors.New("dynamo: query: SKPrefix and SKAtMost together (DynamoDB takes one sort-key condition)")
	case q.SKPrefix != "":
		keyCond += " AND begins_with(#sk, :prefix)"
		names["#sk"] = ix.sk
		values[":prefix"] = &types.AttributeValueMemberS{Value: q.SKPrefix}
	case q.SKAtMost != "":
		keyCond += " AND #sk <= :atmost"
		names["#sk"] = ix.sk
		values[":atmost"] = &types.AttributeValueMemberS{Value: q.SKAtMost}
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String(keyCond),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
		ScanIndexForward:          aws.Bool(!q.Descending),
		ConsistentRead:            aws.Bool(ix.consistent),
	}
	if ix.name != "" {
		in.IndexName = aws.String(ix.name)
	}

	var items []store.Item
	for calls := 0; ; calls++ {
		if calls == maxQueryCalls {
			// DynamoDB kept answering without items; hand back what there
			// is with its own continuation key.
			page := store.Page{Items: items}
			if page.Cursor, err = encodeCursor(start, ix); err != nil {
				return store.Page{}, err
			}
			return page, nil
		}
		in.ExclusiveStartKey = start
		in.Limit = aws.Int32(int32(limit + 1 - len(items)))
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return store.Page{}, fmt.Errorf("dynamo: query %q: %w", q.PK, err)
		}
		for _, av := range out.Items {
			it, err := decodeItem(tableAttrs(av))
			if err != nil {
				return store.Page{}, fmt.Errorf("dynamo: query %q: %w", q.PK, err)
			}
			items = append(items, it)
		}
		if len(items) > limit {
			items = items[:limit]
			last := encodeItem(items[limit-1])
			page := store.Page{Items: items}
			if page.Cursor, err = encodeCursor(last, ix); err != nil {
				return store.Page{}, err
			}
			return page, nil
		}
		if len(out.LastEvaluatedKey) == 0 {
			return store.Page{Items: items}, nil
		}
		start = out.LastEvaluatedKey
	}
}

// encodeCursor renders the key attributes of the index from m as the
// opaque cursor: base64url (unpadded) of a JSON object of strings.
func encodeCursor(m map[string]types.AttributeValue, ix index) (string, error) {
	key := make(map[string]string, 4)
	for _, name := range ix.cursorAttrs() {
		s, ok := m[name].(*types.AttributeValueMemberS)
		if !ok || s.Value == "" {
			return "", fmt.Errorf("dynamo: query: page ends on an item without the string key attribute %q", name)
		}
		key[name] = s.Value
	}
	b, err := json.Marshal(key)
	if err != nil {
		return "", fmt.Errorf("dynamo: query: encode cursor: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// decodeCursor checks that the cursor is one this query could have issued
// (the index's key attributes, all strings, under the query's partition key
// and sort key prefix or bound) and returns it as an ExclusiveStartKey.
func decodeCursor(cursor string, ix index, q store.Query) (map[string]types.AttributeValue, error) {
	invalid := func(why string) error {
		return fmt.Errorf("dynamo: query: %s: %w", why, store.ErrInvalidCursor)
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return nil, invalid("not base64url")
	}
	var key map[string]string
	if err := json.Unmarshal(b, &key); err != nil {
		return nil, invalid("not a key")
	}
	want := ix.cursorAttrs()
	if len(key) != len(want) {
		return nil, invalid("wrong attributes for this index")
	}
	start := make(map[string]types.AttributeValue, len(want))
	for _, name := range want {
		v, ok := key[name]
		if !ok || v == "" {
			return nil, invalid("wrong attributes for this index")
		}
		start[name] = &types.AttributeValueMemberS{Value: v}
	}
	if key[ix.pk] != q.PK {
		return nil, invalid("issued for another partition key")
	}
	if !strings.HasPrefix(key[ix.sk], q.SKPrefix) {
		return nil, invalid("issued for another sort key prefix")
	}
	if q.SKAtMost != "" && key[ix.sk] > q.SKAtMost {
		return nil, invalid("past the query's sort key bound")
	}
	return start, nil
}

// Scan returns every item of the table, read consistently, except the
// change feed's checkpoints.
func (s *Store) Scan(ctx context.Context) ([]store.Item, error) {
	p := dynamodb.NewScanPaginator(s.db, &dynamodb.ScanInput{
		TableName:      aws.String(s.table),
		ConsistentRead: aws.Bool(true),
	})
	var items []store.Item
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("dynamo: scan: %w", err)
		}
		for _, av := range out.Items {
			it, err := decodeItem(tableAttrs(av))
			if err != nil {
				return nil, fmt.Errorf("dynamo: scan: %w", err)
			}
			if !isCheckpointPK(it.PK) {
				items = append(items, it)
			}
		}
	}
	return items, nil
}
