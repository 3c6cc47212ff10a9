package boltstore

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// changeRetention is how long change records are kept, as DynamoDB Streams
// keeps stream records for 24 hours. A consumer that falls further behind
// misses changes, as it would in AWS.
const changeRetention = 24 * time.Hour

// sweepBatch bounds the records one sweep transaction deletes, so that a
// large backlog does not hold the writer lock for long.
const sweepBatch = 500

// janitor sweeps at start (a store reopened after a while has catching up
// to do) and then every interval, until Close.
func (s *Store) janitor(interval time.Duration) {
	defer close(s.janitorDone)
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		if err := s.sweep(); err != nil {
			s.opts.logger.Warn("boltstore: sweep failed", "err", err)
		}
		select {
		case <-s.closed:
			return
		case <-ticker.C:
		}
	}
}

// sweep deletes expired items and prunes changes past retention.
func (s *Store) sweep() error {
	for {
		n, err := s.deleteExpired(sweepBatch)
		if err != nil {
			return fmt.Errorf("delete expired items: %w", err)
		}
		if n < sweepBatch {
			break
		}
	}
	for {
		n, err := s.pruneChanges(sweepBatch)
		if err != nil {
			return fmt.Errorf("prune changes: %w", err)
		}
		if n < sweepBatch {
			return nil
		}
	}
}

// deleteExpired deletes up to limit items whose ExpiresAt has passed. Each
// deletion is a change on the feed, as DynamoDB's TTL deletions are in its
// stream.
func (s *Store) deleteExpired(limit int) (int, error) {
	deleted := 0
	err := s.update(func(w *writer) error {
		now := w.now.Unix()
		// Collected first: deleting moves the cursor's ground.
		var due [][]byte
		c := w.expiry.Cursor()
		for k, _ := c.First(); k != nil && len(due) < limit; k, _ = c.Next() {
			if len(k) < 8 || secondsFromSortable(binary.BigEndian.Uint64(k)) > now {
				break
			}
			due = append(due, bytes.Clone(k))
		}
		for _, k := range due {
			ik := k[8:]
			key, err := decodeItemKey(ik)
			if err != nil {
				return err
			}
			old, err := w.load(key)
			if err != nil {
				return err
			}
			if old == nil || old.item.ExpiresAt.IsZero() || !bytes.Equal(expiryKey(old.item.ExpiresAt, key), k) {
				return fmt.Errorf("expiry entry out of step with its item: %w", errCorrupt)
			}
			if err := w.delete(old); err != nil {
				return err
			}
			deleted++
		}
		return nil
	})
	return deleted, err
}

// pruneChanges deletes up to limit change records older than the retention.
func (s *Store) pruneChanges(limit int) (int, error) {
	cutoff := s.opts.clock.Now().Add(-s.opts.retention)
	var pruned int
	err := s.db.Update(func(tx *bolt.Tx) error {
		changes := tx.Bucket(bucketChanges)
		var old [][]byte
		c := changes.Cursor()
		for k, v := c.First(); k != nil && len(old) < limit; k, v = c.Next() {
			at, err := changeTime(v)
			if err != nil {
				return err
			}
			if !at.Before(cutoff) {
				break
			}
			old = append(old, bytes.Clone(k))
		}
		for _, k := range old {
			if err := changes.Delete(k); err != nil {
				return err
			}
		}
		pruned = len(old)
		return nil
	})
	return pruned, err
}
