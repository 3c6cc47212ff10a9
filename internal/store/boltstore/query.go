package boltstore

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	bolt "go.etcd.io/bbolt"

	"github.com/goodfaith/goodfaith/internal/store"
)

// Query returns one page of the items of a partition, expired ones
// included. Indexes are updated in the same transaction as the items, so
// unlike DynamoDB's they never lag.
func (s *Store) Query(ctx context.Context, q store.Query) (store.Page, error) {
	if err := ctx.Err(); err != nil {
		return store.Page{}, err
	}
	bucket, err := indexBucket(q.Index)
	if err != nil {
		return store.Page{}, err
	}
	if q.PK == "" {
		return store.Page{}, errors.New("boltstore: a query needs a PK")
	}
	if q.SKPrefix != "" && q.SKAtMost != "" {
		return store.Page{}, errors.New("boltstore: a query sets at most one of SKPrefix and SKAtMost, as DynamoDB takes one sort-key condition")
	}
	limit := q.Limit
	if limit <= 0 || limit > store.MaxQueryLimit {
		limit = store.MaxQueryLimit
	}
	// Every entry of the page has this prefix: the partition, then the
	// escaped start of the sort key.
	prefix := appendEscaped(appendComponent(nil, q.PK), q.SKPrefix)
	// And, with SKAtMost, sorts below bound: components sort as tuples, so
	// entries whose sort key is at most SKAtMost are exactly those before
	// the end of the entries whose sort key is SKAtMost.
	var bound []byte
	if q.SKAtMost != "" {
		bound = prefixEnd(appendComponent(appendComponent(nil, q.PK), q.SKAtMost))
	}
	var after []byte
	if q.Cursor != "" {
		if after, err = decodeCursor(q.Cursor, q, prefix, bound); err != nil {
			return store.Page{}, err
		}
	}

	var page store.Page
	err = s.db.View(func(tx *bolt.Tx) error {
		items := tx.Bucket(bucketItems)
		c := tx.Bucket(bucket).Cursor()
		k, v := start(c, prefix, bound, after, q.Descending)
		var last []byte
		for ; k != nil && bytes.HasPrefix(k, prefix) && (bound == nil || bytes.Compare(k, bound) < 0); k, v = step(c, q.Descending) {
			if len(page.Items) == limit {
				// There is at least one more: the page needs a cursor,
				// made here because last points into the transaction.
				page.Cursor = encodeCursor(q, last)
				break
			}
			rec := v
			if q.Index != store.Primary {
				// An index entry's value is the item's key.
				if rec = items.Get(v); rec == nil {
					return fmt.Errorf("boltstore: index entry without its item: %w", errCorrupt)
				}
			}
			it, err := decodeItem(rec)
			if err != nil {
				return err
			}
			page.Items = append(page.Items, it)
			last = k
		}
		return nil
	})
	if err != nil {
		return store.Page{}, err
	}
	return page, nil
}

func indexBucket(ix store.Index) ([]byte, error) {
	switch ix {
	case store.Primary:
		return bucketItems, nil
	case store.ByGSI1:
		return bucketGSI1, nil
	case store.ByGSI2:
		return bucketGSI2, nil
	case store.ByGSI3:
		return bucketGSI3, nil
	}
	return nil, fmt.Errorf("boltstore: unknown index %d", ix)
}

// start positions c on the first entry of the page: the first (or, in
// descending order, last) entry with prefix (and below bound, if set), or
// the one past after.
func start(c *bolt.Cursor, prefix, bound, after []byte, descending bool) (k, v []byte) {
	switch {
	case !descending && after == nil:
		return c.Seek(prefix)
	case !descending:
		k, v = c.Seek(after)
		if bytes.Equal(k, after) {
			k, v = c.Next()
		}
		return k, v
	case after == nil && bound != nil:
		return before(c, bound)
	case after == nil:
		// The last entry with prefix is the one before the first key
		// past every key with prefix.
		return before(c, prefixEnd(prefix))
	default:
		return before(c, after)
	}
}

// before positions c on the last key below limit (nil for no limit).
func before(c *bolt.Cursor, limit []byte) (k, v []byte) {
	if limit == nil {
		return c.Last()
	}
	if k, _ := c.Seek(limit); k == nil {
		return c.Last()
	}
	return c.Prev()
}

func step(c *bolt.Cursor, descending bool) (k, v []byte) {
	if descending {
		return c.Prev()
	}
	return c.Next()
}

// prefixEnd returns the smallest key greater than every key starting with
// prefix, or nil if there is none.
func prefixEnd(prefix []byte) []byte {
	end := bytes.Clone(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xFF {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// A cursor is base64url of: a version byte, the index, a descending flag,
// the last key returned (uvarint length, then the bytes), and a CRC-32 of
// all that. The checksum catches a truncated or edited cursor, which could
// otherwise still decode to a plausible key.
const cursorV1 = 1

func encodeCursor(q store.Query, last []byte) string {
	b := []byte{cursorV1, byte(q.Index), 0}
	if q.Descending {
		b[2] = 1
	}
	b = binary.AppendUvarint(b, uint64(len(last)))
	b = append(b, last...)
	b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor returns the key a cursor resumes after, checking that it was
// issued for this query's index, direction, partition and sort-key prefix or
// bound.
func decodeCursor(cursor string, q store.Query, prefix, bound []byte) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(b) < 3+1+4 {
		return nil, store.ErrInvalidCursor
	}
	body, sum := b[:len(b)-4], binary.BigEndian.Uint32(b[len(b)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return nil, store.ErrInvalidCursor
	}
	desc := byte(0)
	if q.Descending {
		desc = 1
	}
	if body[0] != cursorV1 || body[1] != byte(q.Index) || body[2] != desc {
		return nil, store.ErrInvalidCursor
	}
	n, w := binary.Uvarint(body[3:])
	if w <= 0 || n != uint64(len(body)-3-w) {
		return nil, store.ErrInvalidCursor
	}
	last := body[3+w:]
	if !bytes.HasPrefix(last, prefix) || (bound != nil && bytes.Compare(last, bound) >= 0) {
		return nil, store.ErrInvalidCursor
	}
	return last, nil
}
