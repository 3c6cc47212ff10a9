package streamfeed

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/goodfaith/goodfaith/internal/store"
	"github.com/goodfaith/goodfaith/internal/store/dynamo"
)

// Compile-time check that Feed implements the port's change feed.
var _ store.ChangeFeed = (*Feed)(nil)

// Feed is the change feed of a dynamo.Store's table, read from DynamoDB
// Streams. It is safe for concurrent use; each Consume call is one
// consumer.
type Feed struct {
	store   *dynamo.Store
	streams *dynamodbstreams.Client
	log     *slog.Logger
}

// New returns the change feed of st's table, read through streams.
func New(st *dynamo.Store, streams *dynamodbstreams.Client) *Feed {
	return &Feed{store: st, streams: streams, log: slog.Default()}
}

// NewFromConfig returns the change feed of st's table, read through a
// Streams client built from cfg as the SDK builds it (the Streams API's own
// endpoint, AWS_ENDPOINT_URL_DYNAMODB_STREAMS) and then optFns. cfg is
// st's client's configuration: DynamoDB Local keeps a table apart per
// access key and region. It serves both APIs at one endpoint, which optFns
// then set.
func NewFromConfig(st *dynamo.Store, cfg aws.Config, optFns ...func(*dynamodbstreams.Options)) *Feed {
	return New(st, dynamodbstreams.NewFromConfig(cfg, optFns...))
}

// Tuning of the change feed.
const (
	// pollInterval is the pause after a round that found nothing new.
	pollInterval = 150 * time.Millisecond
	// minBackoff and maxBackoff bound the pause after a failed round (a
	// handler error or an AWS error); it doubles per consecutive failure.
	minBackoff = 200 * time.Millisecond
	maxBackoff = 5 * time.Second
	// shardRefreshInterval is how often the shard list is read again
	// besides whenever a shard ends (which is when children appear).
	shardRefreshInterval = 10 * time.Second
	// getRecordsLimit is the largest batch read from one shard at a time.
	getRecordsLimit = 1000
	// checkpointTTL lets checkpoints of long-gone shards expire. Stream
	// records live 24 hours, so a shard whose checkpoint has not been
	// written for a week holds nothing that could be delivered again.
	checkpointTTL = 7 * 24 * time.Hour
	// checkpointTimeout bounds a checkpoint write, which runs even after
	// the consumer's context is cancelled so that a handled batch is not
	// delivered again needlessly.
	checkpointTimeout = 10 * time.Second
)

// fatalError marks a feed error that retrying cannot cure, such as a table
// without a stream; Consume returns it.
type fatalError struct{ err error }

func (e *fatalError) Error() string { return e.err.Error() }
func (e *fatalError) Unwrap() error { return e.err }

// Consume delivers the table's changes after the consumer's checkpoint to
// handle, polling DynamoDB Streams, until ctx is done; it then returns
// ctx.Err(). A consumer seen for the first time starts at the oldest record
// the stream still holds (24 hours in AWS).
//
// Shards are read one at a time, a parent shard to its end before its
// children, so the changes of any one key arrive in commit order. Each
// GetRecords batch, without the feed's own checkpoint records, is one call
// of handle; when handle fails the same batch is delivered again after a
// backoff, and the checkpoint (an item under pk "CHECKPOINT#<consumer>",
// sk "<shard id>") is written only after it succeeds. A batch holding only
// checkpoint records is skipped without writing a checkpoint, so that
// consumers' checkpoint writes never feed themselves. Transient AWS errors
// are retried with the same backoff; errors that retrying cannot cure (no
// table, no stream) are returned.
func (f *Feed) Consume(ctx context.Context, consumer string, handle store.ChangeHandler) error {
	if consumer == "" {
		return errors.New("streamfeed: consume: empty consumer name")
	}
	if handle == nil {
		return errors.New("streamfeed: consume: nil handler")
	}
	if f.streams == nil {
		return errors.New("streamfeed: consume: the feed has no DynamoDB Streams client")
	}
	c := &feedConsumer{
		f:       f,
		name:    consumer,
		handle:  handle,
		shards:  map[string]*shardState{},
		refresh: true,
	}
	failures := 0
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		progressed, err := c.poll(ctx)
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		var wait time.Duration
		switch {
		case err != nil:
			var fatal *fatalError
			if errors.As(err, &fatal) {
				return err
			}
			failures++
			wait = backoff(failures)
			f.log.Warn("streamfeed: change feed round failed; retrying",
				"table", f.store.Table(), "consumer", consumer, "failures", failures, "retry_in", wait, "err", err)
		case !progressed:
			failures = 0
			wait = pollInterval
		default:
			failures = 0
		}
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
		}
	}
}

// backoff is the pause after the nth consecutive failure: doubling from
// minBackoff, capped at maxBackoff, with ±25% jitter.
func backoff(n int) time.Duration {
	d := minBackoff
	for i := 1; i < n && d < maxBackoff; i++ {
		d *= 2
	}
	d = min(d, maxBackoff)
	return d - d/4 + rand.N(d/2+1)
}

// checkpoint is the stored position of one consumer in one shard.
type checkpoint struct {
	// Seq is the sequence number of the last record consumed.
	Seq string `json:"seq,omitempty"`
	// Done marks a shard read to its end.
	Done bool `json:"done,omitempty"`
}

// shardState is a consumer's position in one shard.
type shardState struct {
	id, parent string
	// seq is the last record consumed (delivered or skipped); empty before
	// the first.
	seq string
	// iter continues after seq; nil when a new iterator must be asked for.
	iter *string
	// ended is set once the shard has been read to its end.
	ended bool
	// dirty is set while the position has not been written as the
	// checkpoint.
	dirty bool
	// version counts checkpoint writes.
	version int64

	// pending is a batch whose handler failed, to be delivered again, with
	// the position to take once it succeeds.
	pending     []store.Change
	pendingSeq  string
	pendingNext *string
}

// finished reports whether nothing more will be read from the shard.
func (sh *shardState) finished() bool { return sh.ended && !sh.dirty && sh.pending == nil }

// feedConsumer is the state of one Consume call.
type feedConsumer struct {
	f      *Feed
	name   string
	handle store.ChangeHandler

	streamARN   string
	saved       map[string]checkpoint // checkpoints read at start, by shard id
	shards      map[string]*shardState
	order       []string // shard ids, parents before children
	refresh     bool
	lastRefresh time.Time
}

func (c *feedConsumer) checkpointPK() string { return dynamo.CheckpointPrefix + c.name }

// poll runs one round over the shards. progressed reports whether it read
// any record or ended a shard, so that the next round should follow at
// once.
func (c *feedConsumer) poll(ctx context.Context) (progressed bool, err error) {
	if c.streamARN == "" {
		arn, err := c.f.latestStreamARN(ctx)
		if err != nil {
			return false, err
		}
		saved, err := c.loadCheckpoints(ctx)
		if err != nil {
			return false, err
		}
		c.streamARN, c.saved = arn, saved
	}
	if c.refresh || time.Since(c.lastRefresh) >= shardRefreshInterval {
		if err := c.refreshShards(ctx); err != nil {
			return false, err
		}
	}
	for _, id := range c.order {
		sh := c.shards[id]
		if sh.finished() {
			continue
		}
		if p, ok := c.shards[sh.parent]; ok && !p.finished() {
			continue
		}
		p, err := c.step(ctx, sh)
		progressed = progressed || p
		if err != nil {
			return progressed, err
		}
	}
	return progressed, nil
}

// latestStreamARN finds the table's stream.
func (f *Feed) latestStreamARN(ctx context.Context) (string, error) {
	table := f.store.Table()
	out, err := f.store.Client().DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		var nf *types.ResourceNotFoundException
		if errors.As(err, &nf) {
			return "", &fatalError{fmt.Errorf("streamfeed: consume: table %q: %w", table, err)}
		}
		return "", fmt.Errorf("streamfeed: consume: describe table %q: %w", table, err)
	}
	t := out.Table
	if t == nil || t.LatestStreamArn == nil || t.StreamSpecification == nil || !aws.ToBool(t.StreamSpecification.StreamEnabled) {
		return "", &fatalError{fmt.Errorf("streamfeed: consume: table %q has no stream enabled", table)}
	}
	if t.StreamSpecification.StreamViewType != types.StreamViewTypeNewAndOldImages {
		return "", &fatalError{fmt.Errorf("streamfeed: consume: table %q stream carries %s, want NEW_AND_OLD_IMAGES", table, t.StreamSpecification.StreamViewType)}
	}
	return *t.LatestStreamArn, nil
}

// loadCheckpoints reads the consumer's checkpoints, by shard id.
func (c *feedConsumer) loadCheckpoints(ctx context.Context) (map[string]checkpoint, error) {
	saved := map[string]checkpoint{}
	q := store.Query{PK: c.checkpointPK()}
	for {
		page, err := c.f.store.Query(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("streamfeed: consume: read checkpoints: %w", err)
		}
		for _, it := range page.Items {
			var cp checkpoint
			if err := json.Unmarshal(it.Data, &cp); err != nil {
				return nil, &fatalError{fmt.Errorf("streamfeed: consume: checkpoint %q/%q: %w", it.PK, it.SK, err)}
			}
			saved[it.SK] = cp
		}
		if page.Cursor == "" {
			return saved, nil
		}
		q.Cursor = page.Cursor
	}
}

// refreshShards reads the stream's shard list, adds new shards at their
// checkpoints, forgets shards the stream no longer lists, and orders them
// parents first.
func (c *feedConsumer) refreshShards(ctx context.Context) error {
	listed := map[string]bool{}
	in := &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(c.streamARN)}
	for {
		out, err := c.f.streams.DescribeStream(ctx, in)
		if err != nil {
			var nf *streamtypes.ResourceNotFoundException
			if errors.As(err, &nf) {
				return &fatalError{fmt.Errorf("streamfeed: consume: stream of table %q: %w", c.f.store.Table(), err)}
			}
			return fmt.Errorf("streamfeed: consume: describe stream: %w", err)
		}
		if out.StreamDescription == nil {
			return errors.New("streamfeed: consume: describe stream returned no description")
		}
		for _, sh := range out.StreamDescription.Shards {
			id := aws.ToString(sh.ShardId)
			if id == "" {
				continue
			}
			listed[id] = true
			if _, ok := c.shards[id]; ok {
				continue
			}
			st := &shardState{id: id, parent: aws.ToString(sh.ParentShardId)}
			if cp, ok := c.saved[id]; ok {
				st.seq, st.ended = cp.Seq, cp.Done
			}
			c.shards[id] = st
		}
		if out.StreamDescription.LastEvaluatedShardId == nil {
			break
		}
		in.ExclusiveStartShardId = out.StreamDescription.LastEvaluatedShardId
	}
	for id := range c.shards {
		if !listed[id] {
			delete(c.shards, id)
		}
	}
	depth := func(sh *shardState) int {
		d := 0
		for p, ok := c.shards[sh.parent]; ok && d <= len(c.shards); p, ok = c.shards[p.parent] {
			d++
		}
		return d
	}
	c.order = c.order[:0]
	for id := range c.shards {
		c.order = append(c.order, id)
	}
	slices.SortFunc(c.order, func(a, b string) int {
		if d := cmp.Compare(depth(c.shards[a]), depth(c.shards[b])); d != 0 {
			return d
		}
		return cmp.Compare(a, b)
	})
	c.refresh, c.lastRefresh = false, time.Now()
	return nil
}

// step reads and delivers one batch of the shard. progressed reports
// whether it consumed any record or ended the shard.
func (c *feedConsumer) step(ctx context.Context, sh *shardState) (progressed bool, err error) {
	if sh.pending != nil {
		if err := c.deliver(ctx, sh, sh.pending); err != nil {
			return false, err
		}
		sh.seq, sh.iter = sh.pendingSeq, sh.pendingNext
		sh.ended = sh.pendingNext == nil
		sh.pending, sh.pendingSeq, sh.pendingNext = nil, "", nil
		sh.dirty = true
		if sh.ended {
			c.refresh = true
		}
		return true, c.save(ctx, sh)
	}
	if sh.dirty {
		if err := c.save(ctx, sh); err != nil {
			return false, err
		}
	}
	if sh.ended {
		return false, nil
	}
	if sh.iter == nil {
		if err := c.iterator(ctx, sh); err != nil {
			return false, err
		}
		if sh.ended {
			return true, nil
		}
	}
	out, err := c.f.streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{
		ShardIterator: sh.iter,
		Limit:         aws.Int32(getRecordsLimit),
	})
	if err != nil {
		var expired *streamtypes.ExpiredIteratorException
		var trimmed *streamtypes.TrimmedDataAccessException
		switch {
		case errors.As(err, &expired):
			// Iterators last 15 minutes; ask for a new one from seq.
			sh.iter = nil
			return true, nil
		case errors.As(err, &trimmed):
			c.trimmed(sh)
			return true, nil
		}
		return false, fmt.Errorf("streamfeed: consume: get records of shard %s: %w", sh.id, err)
	}
	changes, err := changesFromRecords(out.Records)
	if err != nil {
		return false, &fatalError{fmt.Errorf("streamfeed: consume: shard %s: %w", sh.id, err)}
	}
	lastSeq := ""
	if n := len(out.Records); n > 0 && out.Records[n-1].Dynamodb != nil {
		lastSeq = aws.ToString(out.Records[n-1].Dynamodb.SequenceNumber)
	}
	if len(changes) > 0 {
		if err := c.deliver(ctx, sh, changes); err != nil {
			sh.pending, sh.pendingSeq, sh.pendingNext = changes, lastSeq, out.NextShardIterator
			return false, err
		}
		sh.dirty = true
	}
	if lastSeq != "" {
		sh.seq = lastSeq
	}
	sh.iter = out.NextShardIterator
	if sh.iter == nil {
		sh.ended, sh.dirty = true, true
		c.refresh = true
	}
	if sh.dirty {
		if err := c.save(ctx, sh); err != nil {
			return true, err
		}
	}
	return len(out.Records) > 0 || sh.ended, nil
}

// iterator asks for an iterator after the shard's position, or at its
// oldest record when it has none.
func (c *feedConsumer) iterator(ctx context.Context, sh *shardState) error {
	in := &dynamodbstreams.GetShardIteratorInput{
		StreamArn:         aws.String(c.streamARN),
		ShardId:           aws.String(sh.id),
		ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon,
	}
	if sh.seq != "" {
		in.ShardIteratorType = streamtypes.ShardIteratorTypeAfterSequenceNumber
		in.SequenceNumber = aws.String(sh.seq)
	}
	out, err := c.f.streams.GetShardIterator(ctx, in)
	if err != nil {
		var trimmed *streamtypes.TrimmedDataAccessException
		var nf *streamtypes.ResourceNotFoundException
		switch {
		case errors.As(err, &trimmed):
			c.trimmed(sh)
			return nil
		case errors.As(err, &nf):
			// The shard has expired since it was listed: nothing is left
			// to read in it.
			sh.ended = true
			c.refresh = true
			return nil
		}
		return fmt.Errorf("streamfeed: consume: shard iterator of %s: %w", sh.id, err)
	}
	if out.ShardIterator == nil {
		sh.ended, sh.dirty = true, true
		c.refresh = true
		return nil
	}
	sh.iter = out.ShardIterator
	return nil
}

// trimmed restarts a shard whose position the stream no longer holds at
// its oldest record. Records between the two are lost to this consumer,
// which only happens after it has been stopped for longer than the
// stream's retention.
func (c *feedConsumer) trimmed(sh *shardState) {
	c.f.log.Error("streamfeed: change feed position trimmed from the stream; changes were lost to this consumer",
		"table", c.f.store.Table(), "consumer", c.name, "shard", sh.id, "seq", sh.seq)
	sh.seq, sh.iter = "", nil
}

// deliver calls the handler with a copy of the batch, so that a handler
// that edits its slice cannot change what a redelivery carries.
func (c *feedConsumer) deliver(ctx context.Context, sh *shardState, changes []store.Change) error {
	if err := c.handle(ctx, slices.Clone(changes)); err != nil {
		return fmt.Errorf("streamfeed: consume: handler failed on %d changes of shard %s: %w", len(changes), sh.id, err)
	}
	return nil
}

// save writes the shard's position as the consumer's checkpoint.
func (c *feedConsumer) save(ctx context.Context, sh *shardState) error {
	data, err := json.Marshal(checkpoint{Seq: sh.seq, Done: sh.ended})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), checkpointTimeout)
	defer cancel()
	sh.version++
	err = c.f.store.PutCheckpoint(ctx, store.Item{
		PK:        c.checkpointPK(),
		SK:        sh.id,
		Version:   sh.version,
		ExpiresAt: time.Now().Add(checkpointTTL),
		Data:      data,
	})
	if err != nil {
		return fmt.Errorf("streamfeed: consume: write checkpoint of shard %s: %w", sh.id, err)
	}
	sh.dirty = false
	return nil
}
