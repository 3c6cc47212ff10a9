package boltstore

import (
	"errors"
	"fmt"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// Group commit. bbolt runs one write transaction at a time and fsyncs each
// commit, so under concurrent writers every caller queued behind every
// other caller's fsync: the embedded store's throughput was one fsync per
// write. Writes arriving while a commit is in flight now wait for it and
// then commit together, in one transaction and one fsync.
//
// Durability is unchanged: update returns only after the transaction that
// holds the caller's write has committed (and, unless WithoutSync, been
// synced). Isolation is unchanged: the writes of a group run one after the
// other in the transaction, each seeing the ones before it, exactly as if
// they had committed in that order. A write that fails is taken out of the
// group, the transaction is rolled back and the rest retried, and the failed
// write is run again on its own by its caller — so a refused condition
// changes nothing and reports its own error, as before (bbolt's DB.Batch
// does the same, but waits a fixed delay to gather a group; this waits only
// for the commit in flight, so a lone writer is not slowed).

// maxGroup bounds the writes of one transaction.
const maxGroup = 256

type groupCommit struct {
	mu      sync.Mutex
	pending []*commitCall
	leading bool // a caller is committing; the next is handed the lead
}

type commitCall struct {
	fn   func(w *writer) error
	err  error
	solo bool      // failed in a group: run alone by its caller
	wake chan bool // true: lead the next group; false: done
}

// errSolo marks the write whose failure rolled a group back.
var errSolo = errors.New("boltstore: run alone")

// update runs fn in a write transaction, grouped with the writes that
// arrive while another commit is in flight, and wakes consumers if it added
// changes.
func (s *Store) update(fn func(w *writer) error) error {
	c := &commitCall{fn: fn, wake: make(chan bool, 1)}
	g := &s.group
	g.mu.Lock()
	g.pending = append(g.pending, c)
	if g.leading {
		g.mu.Unlock()
		if <-c.wake {
			s.lead()
		}
	} else {
		g.leading = true
		g.mu.Unlock()
		s.lead()
	}
	if c.solo {
		return s.updateSolo(fn)
	}
	return c.err
}

// lead commits the pending writes (the leader's among them, or already
// committed by an earlier leader) and hands the lead to the next waiting
// writer, if any.
func (s *Store) lead() {
	g := &s.group
	g.mu.Lock()
	n := min(len(g.pending), maxGroup)
	batch := append([]*commitCall(nil), g.pending[:n]...)
	g.pending = append(g.pending[:0:0], g.pending[n:]...)
	g.mu.Unlock()
	s.commitGroup(batch)
	g.mu.Lock()
	if len(g.pending) == 0 {
		g.leading = false
		g.mu.Unlock()
		return
	}
	next := g.pending[0]
	g.mu.Unlock()
	next.wake <- true
}

// commitGroup commits batch in one transaction, taking out and marking
// solo any write that fails.
func (s *Store) commitGroup(batch []*commitCall) {
	for len(batch) > 0 {
		failed := -1
		var added bool
		err := s.db.Update(func(tx *bolt.Tx) error {
			w := newWriter(tx, s.opts.clock.Now())
			for i, c := range batch {
				if err := safely(c.fn, w); err != nil {
					failed = i
					return errSolo
				}
			}
			added = w.added
			return nil
		})
		if failed >= 0 {
			c := batch[failed]
			batch = append(batch[:failed:failed], batch[failed+1:]...)
			c.solo = true
			c.wake <- false
			continue
		}
		if err == nil && added {
			s.notify()
		}
		for _, c := range batch {
			c.err = err
			c.wake <- false
		}
		return
	}
}

// safely calls fn, turning a panic into an error (the caller then runs fn
// alone, where the panic is its own again).
func safely(fn func(w *writer) error, w *writer) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("boltstore: panic in write: %v", p)
		}
	}()
	return fn(w)
}

// updateSolo runs fn in a write transaction of its own.
func (s *Store) updateSolo(fn func(w *writer) error) error {
	var added bool
	err := s.db.Update(func(tx *bolt.Tx) error {
		w := newWriter(tx, s.opts.clock.Now())
		if err := fn(w); err != nil {
			return err
		}
		added = w.added
		return nil
	})
	if err == nil && added {
		s.notify()
	}
	return err
}
