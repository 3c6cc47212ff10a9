package boltstore

import (
	"context"
	"encoding/binary"
	"errors"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/goodfaith/goodfaith/internal/store"
)

const (
	// batchSize caps the changes handed to one handler call, as a Lambda
	// event source mapping's batch size does.
	batchSize = 100
	// defaultFallbackPoll is how often an idle consumer looks for changes
	// without being woken. Every commit wakes consumers, so this only
	// bounds the cost of a missed wake-up, which should not happen.
	defaultFallbackPoll = 5 * time.Second
	// A failed batch is retried after retryMin, doubling up to retryMax.
	retryMin = 100 * time.Millisecond
	retryMax = 5 * time.Second
)

// changesWritten returns a channel closed at the next commit that adds
// changes. Taking it before reading the log means a commit racing with the
// read still wakes the reader.
func (s *Store) changesWritten() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

func (s *Store) notify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.changed)
	s.changed = make(chan struct{})
}

// Consume hands the changes after consumer's checkpoint to handle, in
// batches in commit order, until ctx is done. A consumer never seen before
// starts at the oldest change still kept (changes are pruned after a day).
// A handler error makes the same batch (perhaps with more changes after it)
// come again after a backoff; the checkpoint moves only when handle
// succeeds. Consume calls running at once under the same name share the
// checkpoint: between them every change is handled at least once, but each
// may skip what another has already handled.
func (s *Store) Consume(ctx context.Context, consumer string, handle store.ChangeHandler) error {
	if consumer == "" {
		return errors.New("boltstore: a consumer needs a name")
	}
	retry := time.Duration(0)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		woken := s.changesWritten()
		batch, last, err := s.readChanges(consumer)
		if err != nil {
			return s.closedOr(err)
		}
		if len(batch) == 0 {
			if err := s.wait(ctx, woken, s.opts.fallbackPoll); err != nil {
				return err
			}
			continue
		}
		if err := handle(ctx, batch); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			retry = min(max(2*retry, retryMin), retryMax)
			if err := s.wait(ctx, nil, retry); err != nil {
				return err
			}
			continue
		}
		retry = 0
		if err := s.saveCheckpoint(consumer, last); err != nil {
			return s.closedOr(err)
		}
	}
}

// wait returns nil when woken closes or d passes, ctx.Err() when ctx is
// done and errClosed when the store closes.
func (s *Store) wait(ctx context.Context, woken <-chan struct{}, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-s.closed:
		return errClosed
	case <-woken:
		return nil
	case <-timer.C:
		return nil
	}
}

// closedOr reports a failure caused by Close as errClosed.
func (s *Store) closedOr(err error) error {
	select {
	case <-s.closed:
		return errClosed
	default:
		return err
	}
}

// readChanges returns up to batchSize changes after consumer's checkpoint
// and the sequence number of the last one.
func (s *Store) readChanges(consumer string) ([]store.Change, uint64, error) {
	var batch []store.Change
	var last uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		from := checkpoint(tx, consumer) + 1
		c := tx.Bucket(bucketChanges).Cursor()
		for k, v := c.Seek(seqKey(from)); k != nil && len(batch) < batchSize; k, v = c.Next() {
			seq := binary.BigEndian.Uint64(k)
			ch, err := decodeChange(seq, v)
			if err != nil {
				return err
			}
			batch = append(batch, ch)
			last = seq
		}
		return nil
	})
	return batch, last, err
}

func checkpoint(tx *bolt.Tx, consumer string) uint64 {
	return checkpointIn(tx.Bucket(bucketCheckpoints), consumer)
}

func checkpointIn(b *bolt.Bucket, consumer string) uint64 {
	v := b.Get([]byte(consumer))
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

// saveCheckpoint records that consumer has handled every change up to seq.
// It never moves a checkpoint back, which a slower Consume of the same name
// could otherwise do. It commits through the group commit: every batch of
// every consumer moves a checkpoint, and as a transaction of its own each
// took bbolt's writer lock and two fsyncs, queueing the API's writes
// behind it (a fifth of the embedded load run's blocked time).
func (s *Store) saveCheckpoint(consumer string, seq uint64) error {
	return s.update(func(w *writer) error {
		if checkpointIn(w.checkpoints, consumer) >= seq {
			return nil
		}
		return w.checkpoints.Put([]byte(consumer), seqKey(seq))
	})
}
