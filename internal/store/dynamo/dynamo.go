package dynamo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/goodfaith/goodfaith/internal/store"
)

// Compile-time checks that Store implements the port (its change feed is
// package streamfeed).
var (
	_ store.Store   = (*Store)(nil)
	_ store.Scanner = (*Store)(nil)
)

// Store is the DynamoDB adapter of the storage port. It is safe for
// concurrent use.
type Store struct {
	db    *dynamodb.Client
	table string
	log   *slog.Logger
}

// New returns a store over the table, which must have the schema described
// in the package documentation (CreateTable makes one).
func New(db *dynamodb.Client, table string) *Store {
	return &Store{db: db, table: table, log: slog.Default()}
}

// Table is the name of the store's table.
func (s *Store) Table() string { return s.table }

// Client is the DynamoDB client the store calls.
func (s *Store) Client() *dynamodb.Client { return s.db }

// conflictRetries bounds how often a write that lost a race with a
// concurrent transaction (TransactionConflict) is tried again. A write that
// conflicted changed nothing, so retrying it is safe; its condition is
// evaluated afresh.
const conflictRetries = 8

// Get returns the item with the key, read consistently, or an error
// wrapping store.ErrNotFound.
func (s *Store) Get(ctx context.Context, key store.Key) (store.Item, error) {
	if key.PK == "" || key.SK == "" {
		return store.Item{}, fmt.Errorf("%w (got %q, %q)", errEmptyKey, key.PK, key.SK)
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            keyAttrs(key),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return store.Item{}, fmt.Errorf("dynamo: get %q/%q: %w", key.PK, key.SK, err)
	}
	if len(out.Item) == 0 {
		return store.Item{}, fmt.Errorf("dynamo: get %q/%q: %w", key.PK, key.SK, store.ErrNotFound)
	}
	it, err := decodeItem(tableAttrs(out.Item))
	if err != nil {
		return store.Item{}, fmt.Errorf("dynamo: get %q/%q: %w", key.PK, key.SK, err)
	}
	return it, nil
}

// Put writes the whole item if cond holds.
func (s *Store) Put(ctx context.Context, item store.Item, cond store.Condition) error {
	if err := checkItem(item); err != nil {
		return err
	}
	return s.put(ctx, item, cond)
}

// PutCheckpoint writes a checkpoint of the change feed (package
// streamfeed): an item whose partition key starts with CheckpointPrefix,
// which Put refuses.
func (s *Store) PutCheckpoint(ctx context.Context, item store.Item) error {
	if !isCheckpointPK(item.PK) || item.SK == "" {
		return fmt.Errorf("dynamo: a checkpoint's partition key starts with %q and its sort key is set (got %q, %q)", CheckpointPrefix, item.PK, item.SK)
	}
	return s.put(ctx, item, store.None)
}

// put writes without the reserved-key check (Put, PutCheckpoint).
func (s *Store) put(ctx context.Context, item store.Item, cond store.Condition) error {
	expr, err := condition(cond)
	if err != nil {
		return err
	}
	in := &dynamodb.PutItemInput{
		TableName:                 aws.String(s.table),
		Item:                      encodeItem(item),
		ConditionExpression:       expr.text,
		ExpressionAttributeNames:  expr.names,
		ExpressionAttributeValues: expr.values,
	}
	err = s.retryConflicts(ctx, func() error {
		_, err := s.db.PutItem(ctx, in)
		return err
	})
	if err != nil {
		return fmt.Errorf("dynamo: put %q/%q: %w", item.PK, item.SK, mapWriteError(err))
	}
	return nil
}

// Delete removes the item with the key if cond holds. Deleting a missing
// item under None or IfAbsent succeeds and writes nothing.
func (s *Store) Delete(ctx context.Context, key store.Key, cond store.Condition) error {
	if err := checkKey(key); err != nil {
		return err
	}
	expr, err := condition(cond)
	if err != nil {
		return err
	}
	in := &dynamodb.DeleteItemInput{
		TableName:                 aws.String(s.table),
		Key:                       keyAttrs(key),
		ConditionExpression:       expr.text,
		ExpressionAttributeNames:  expr.names,
		ExpressionAttributeValues: expr.values,
	}
	err = s.retryConflicts(ctx, func() error {
		_, err := s.db.DeleteItem(ctx, in)
		return err
	})
	if err != nil {
		return fmt.Errorf("dynamo: delete %q/%q: %w", key.PK, key.SK, mapWriteError(err))
	}
	return nil
}

// Transact applies every op or none, as one TransactWriteItems call.
func (s *Store) Transact(ctx context.Context, ops ...store.Op) error {
	if len(ops) > store.MaxTransactOps {
		return fmt.Errorf("dynamo: transact: %d ops, at most %d: %w", len(ops), store.MaxTransactOps, store.ErrTooManyOps)
	}
	seen := make(map[store.Key]bool, len(ops))
	items := make([]types.TransactWriteItem, 0, len(ops))
	for i, op := range ops {
		var key store.Key
		n := 0
		if op.Put != nil {
			n++
			key = op.Put.Key()
		}
		if op.Delete != nil {
			n++
			key = *op.Delete
		}
		if op.Check != nil {
			n++
			key = *op.Check
		}
		if n != 1 {
			return fmt.Errorf("dynamo: transact: op %d sets %d of Put, Delete and Check, want exactly one", i, n)
		}
		if err := checkKey(key); err != nil {
			return fmt.Errorf("dynamo: transact: op %d: %w", i, err)
		}
		if op.Put != nil {
			if err := checkItem(*op.Put); err != nil {
				return fmt.Errorf("dynamo: transact: op %d: %w", i, err)
			}
		}
		if seen[key] {
			return fmt.Errorf("dynamo: transact: op %d repeats key %q/%q: %w", i, key.PK, key.SK, store.ErrTooManyOps)
		}
		seen[key] = true
		expr, err := condition(op.Cond)
		if err != nil {
			return fmt.Errorf("dynamo: transact: op %d: %w", i, err)
		}
		switch {
		case op.Put != nil:
			items = append(items, types.TransactWriteItem{Put: &types.Put{
				TableName:                 aws.String(s.table),
				Item:                      encodeItem(*op.Put),
				ConditionExpression:       expr.text,
				ExpressionAttributeNames:  expr.names,
				ExpressionAttributeValues: expr.values,
			}})
		case op.Delete != nil:
			items = append(items, types.TransactWriteItem{Delete: &types.Delete{
				TableName:                 aws.String(s.table),
				Key:                       keyAttrs(key),
				ConditionExpression:       expr.text,
				ExpressionAttributeNames:  expr.names,
				ExpressionAttributeValues: expr.values,
			}})
		case expr.text != nil:
			items = append(items, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
				TableName:                 aws.String(s.table),
				Key:                       keyAttrs(key),
				ConditionExpression:       expr.text,
				ExpressionAttributeNames:  expr.names,
				ExpressionAttributeValues: expr.values,
			}})
		default:
			// An unconditional Check always holds; DynamoDB has no such
			// operation, so it is not sent (it still counted above).
		}
	}
	if len(items) == 0 {
		return nil
	}
	in := &dynamodb.TransactWriteItemsInput{TransactItems: items}
	err := s.retryConflicts(ctx, func() error {
		// ClientRequestToken is left nil: the SDK fills a fresh one per
		// call, which keeps its own retries of this call idempotent.
		_, err := s.db.TransactWriteItems(ctx, in)
		return err
	})
	if err != nil {
		return fmt.Errorf("dynamo: transact: %w", mapWriteError(err))
	}
	return nil
}

// condExpr is a Condition as a DynamoDB condition expression; all fields
// are nil for an unconditional write.
type condExpr struct {
	text   *string
	names  map[string]string
	values map[string]types.AttributeValue
}

func condition(c store.Condition) (condExpr, error) {
	switch c.Kind {
	case store.Unconditional:
		return condExpr{}, nil
	case store.Absent:
		return condExpr{
			text:  aws.String("attribute_not_exists(#pk)"),
			names: map[string]string{"#pk": attrPK},
		}, nil
	case store.Exists:
		return condExpr{
			text:  aws.String("attribute_exists(#pk)"),
			names: map[string]string{"#pk": attrPK},
		}, nil
	case store.VersionIs:
		// A missing item has no v, so the comparison fails for it whatever
		// the version asked.
		return condExpr{
			text:   aws.String("#v = :v"),
			names:  map[string]string{"#v": attrVersion},
			values: map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: strconv.FormatInt(c.Version, 10)}},
		}, nil
	default:
		return condExpr{}, fmt.Errorf("dynamo: unknown condition kind %d", c.Kind)
	}
}

// mapWriteError wraps store.ErrConditionFailed around DynamoDB's ways of
// saying a condition failed, and leaves other errors as they are.
func mapWriteError(err error) error {
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return fmt.Errorf("%w: %w", store.ErrConditionFailed, err)
	}
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) && cancelledBy(tce, "ConditionalCheckFailed") {
		return fmt.Errorf("%w: %w", store.ErrConditionFailed, err)
	}
	return err
}

// cancelledBy reports whether any reason for cancelling the transaction
// has the code.
func cancelledBy(tce *types.TransactionCanceledException, code string) bool {
	for _, r := range tce.CancellationReasons {
		if aws.ToString(r.Code) == code {
			return true
		}
	}
	return false
}

// isConflict reports whether a write failed only because it raced a
// concurrent transaction on the same item, and so changed nothing.
func isConflict(err error) bool {
	var tc *types.TransactionConflictException
	if errors.As(err, &tc) {
		return true
	}
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		return cancelledBy(tce, "TransactionConflict") && !cancelledBy(tce, "ConditionalCheckFailed")
	}
	return false
}

// retryConflicts calls write until it does not fail with a transaction
// conflict, at most conflictRetries+1 times, with a short jittered backoff.
func (s *Store) retryConflicts(ctx context.Context, write func() error) error {
	delay := 5 * time.Millisecond
	for attempt := 0; ; attempt++ {
		err := write()
		if err == nil || attempt == conflictRetries || !isConflict(err) {
			return err
		}
		t := time.NewTimer(delay/2 + rand.N(delay))
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		delay = min(2*delay, 200*time.Millisecond)
	}
}
