package store

import (
	"context"
	"time"
)

// Key addresses one item.
type Key struct {
	PK string
	SK string
}

// Item is one record of the single table.
//
// Index keys are sparse: an item with an empty GSI1PK is absent from the
// ByGSI1 index, which is how, for example, only queued exams appear in a
// state's queue.
type Item struct {
	PK string
	SK string

	// GSI1 lists items by owner (e.g. a clinic's exams by creation time).
	GSI1PK string
	GSI1SK string
	// GSI2 lists items by work queue (e.g. queued exams per US state).
	GSI2PK string
	GSI2SK string
	// GSI3 lists items by due time across partitions a GSI2 query would
	// read one by one (e.g. every queued exam with a pending SLA step, by
	// the time of that step, so that one sweep reads one partition).
	GSI3PK string
	GSI3SK string

	// Version is chosen by the writer: a new item has version 1 and every
	// update writes old+1 under IfVersion(old), which makes each write an
	// optimistic compare-and-set.
	Version int64

	// ExpiresAt, if set, lets the adapter delete the item some time after it
	// passes (DynamoDB TTL; a sweep in bbolt). Readers must still check it:
	// deletion is lazy.
	ExpiresAt time.Time

	// Data is the record itself, a JSON document owned by the domain.
	Data []byte
}

// Key returns the item's primary key.
func (it Item) Key() Key { return Key{PK: it.PK, SK: it.SK} }

// Expired reports whether the item has an expiry at or before now.
func (it Item) Expired(now time.Time) bool {
	return !it.ExpiresAt.IsZero() && !now.Before(it.ExpiresAt)
}

// ConditionKind names what a Condition checks.
type ConditionKind int

const (
	// Unconditional writes whatever is there.
	Unconditional ConditionKind = iota
	// Absent holds when no item has the key.
	Absent
	// Exists holds when an item has the key.
	Exists
	// VersionIs holds when an item has the key and carries the version.
	VersionIs
)

// Condition guards a write. The zero value is unconditional.
type Condition struct {
	Kind    ConditionKind
	Version int64
}

var (
	// None is the unconditional write.
	None = Condition{Kind: Unconditional}
	// IfAbsent creates an item only if none has its key.
	IfAbsent = Condition{Kind: Absent}
	// IfExists writes only over an existing item.
	IfExists = Condition{Kind: Exists}
)

// IfVersion writes only if the stored item carries version v.
func IfVersion(v int64) Condition { return Condition{Kind: VersionIs, Version: v} }

// MaxTransactOps bounds one transaction (DynamoDB allows 100; we keep room).
const MaxTransactOps = 25

// Op is one operation of a transaction: exactly one of Put, Delete or Check
// is set. Check asserts Cond on Key without writing.
type Op struct {
	Put    *Item
	Delete *Key
	Check  *Key
	Cond   Condition
}

// Index names where a query looks.
type Index int

const (
	// Primary queries items by PK, ordered by SK.
	Primary Index = iota
	// ByGSI1 queries items by GSI1PK, ordered by GSI1SK.
	ByGSI1
	// ByGSI2 queries items by GSI2PK, ordered by GSI2SK.
	ByGSI2
	// ByGSI3 queries items by GSI3PK, ordered by GSI3SK.
	ByGSI3
)

// Query selects items sharing one partition key of an index, ordered by
// that index's sort key.
type Query struct {
	Index Index
	PK    string
	// SKPrefix, if set, keeps only items whose index sort key starts with it.
	SKPrefix string
	// SKAtMost, if set, keeps only items whose index sort key is at most it
	// (byte order), so that a query for what is due reads nothing else. A
	// query sets at most one of SKPrefix and SKAtMost (DynamoDB takes one
	// sort-key condition).
	SKAtMost string
	// Limit caps the page (default and maximum 1000).
	Limit int
	// Cursor continues a previous page; empty starts at the beginning.
	Cursor string
	// Descending reverses the order.
	Descending bool
}

// Page is one page of a query. Cursor is empty on the last page.
type Page struct {
	Items  []Item
	Cursor string
}

// MaxQueryLimit is the largest page a query returns.
const MaxQueryLimit = 1000

// Store is the storage port.
//
// Reads by primary key (Get, Query on Primary) see every write that
// returned before they started. Index queries may lag briefly, as DynamoDB
// global secondary indexes do.
type Store interface {
	Get(ctx context.Context, key Key) (Item, error)
	Put(ctx context.Context, item Item, cond Condition) error
	Delete(ctx context.Context, key Key, cond Condition) error
	// Transact applies every op or none; a failed condition returns an
	// error wrapping ErrConditionFailed.
	Transact(ctx context.Context, ops ...Op) error
	Query(ctx context.Context, q Query) (Page, error)
}

// Change is one write seen on the change feed.
type Change struct {
	// ID identifies the change uniquely and stably across redeliveries.
	ID  string
	Key Key
	// Old is nil for a creation, New is nil for a deletion.
	Old *Item
	New *Item
	At  time.Time
}

// ChangeHandler processes a batch of changes. Delivery is at least once, so
// handlers must be idempotent. A returned error makes the feed deliver the
// same batch again later; the checkpoint advances only after success.
type ChangeHandler func(ctx context.Context, changes []Change) error

// ChangeFeed delivers every committed write, in commit order for any one
// key, to named consumers that each keep their own checkpoint.
type ChangeFeed interface {
	// Consume blocks, delivering changes after the consumer's checkpoint to
	// handle until ctx is done. It returns ctx.Err() on cancellation.
	Consume(ctx context.Context, consumer string, handle ChangeHandler) error
}

// Scanner lists every item; tests use it to assert that a refused request
// changed nothing. It is not part of Store because production code never
// needs a full scan.
type Scanner interface {
	Scan(ctx context.Context) ([]Item, error)
}

// sortableLayout is RFC 3339 with a fixed nine-digit fraction, so that
// times sort as strings (RFC3339Nano trims zeros and does not).
const sortableLayout = "2006-01-02T15:04:05.000000000Z"

// SortableTime formats t (in UTC) for use in sort keys.
func SortableTime(t time.Time) string { return t.UTC().Format(sortableLayout) }
