package queue_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/queue"
	"github.com/goodfaith/goodfaith/internal/queue/sqsqueue"
	"github.com/goodfaith/goodfaith/internal/testenv"
)

// harness is one adapter under test: wait lets time pass for it (the fake
// clock for Memory; real time, polled, for ElasticMQ).
type harness struct {
	q    queue.Queue
	wait func(d time.Duration)
}

// receiveAll receives until n messages came or the deadline (in the
// adapter's time) passed.
func receiveAll(t *testing.T, h harness, n int, visibility time.Duration) []queue.Message {
	t.Helper()
	var got []queue.Message
	for range 40 {
		msgs, err := h.q.Receive(context.Background(), queue.MaxBatch, visibility)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, msgs...)
		if len(got) >= n {
			return got
		}
		h.wait(250 * time.Millisecond)
	}
	return got
}

func bodies(msgs []queue.Message) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.Body)
	}
	sort.Strings(out)
	return out
}

func conformance(t *testing.T, open func(t *testing.T) harness) {
	ctx := context.Background()

	t.Run("sent messages are received once each and deleted", func(t *testing.T) {
		h := open(t)
		for i := range 12 {
			if err := h.q.Send(ctx, fmt.Sprintf("m%02d", i), 0); err != nil {
				t.Fatal(err)
			}
		}
		got := receiveAll(t, h, 12, 30*time.Second)
		if len(got) != 12 {
			t.Fatalf("received %d messages, want 12", len(got))
		}
		want := []string{}
		for i := range 12 {
			want = append(want, fmt.Sprintf("m%02d", i))
		}
		if fmt.Sprint(bodies(got)) != fmt.Sprint(want) {
			t.Fatalf("bodies %v, want %v", bodies(got), want)
		}
		for _, m := range got {
			if m.ID == "" || m.Receipt == "" || m.ReceiveCount != 1 {
				t.Fatalf("message %+v: want an id, a receipt and a receive count of 1", m)
			}
			if err := h.q.Delete(ctx, m.Receipt); err != nil {
				t.Fatal(err)
			}
		}
		// Invisible or deleted: nothing comes back, even after the
		// visibility timeout had it not been deleted.
		h.wait(31 * time.Second / 30) // the sqs harness waits real time; a second is enough to see a leak
		if msgs, err := h.q.Receive(ctx, queue.MaxBatch, time.Second); err != nil || len(msgs) != 0 {
			t.Fatalf("after delete: %d messages, %v", len(msgs), err)
		}
	})

	t.Run("an undeleted message comes back after its visibility timeout", func(t *testing.T) {
		h := open(t)
		if err := h.q.Send(ctx, "again", 0); err != nil {
			t.Fatal(err)
		}
		first := receiveAll(t, h, 1, time.Second)
		if len(first) != 1 {
			t.Fatalf("received %d, want 1", len(first))
		}
		if msgs, _ := h.q.Receive(ctx, 1, time.Second); len(msgs) != 0 {
			t.Fatal("a received message was visible again before its visibility timeout")
		}
		h.wait(1100 * time.Millisecond)
		second := receiveAll(t, h, 1, 30*time.Second)
		if len(second) != 1 || second[0].ID != first[0].ID || second[0].ReceiveCount != 2 || second[0].Receipt == first[0].Receipt {
			t.Fatalf("second receive %+v after first %+v: want the same message, count 2, a new receipt", second, first)
		}
		if err := h.q.Delete(ctx, second[0].Receipt); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("a delayed message is not received before its delay", func(t *testing.T) {
		h := open(t)
		if err := h.q.Send(ctx, "later", 2*time.Second); err != nil {
			t.Fatal(err)
		}
		if msgs, err := h.q.Receive(ctx, queue.MaxBatch, 30*time.Second); err != nil || len(msgs) != 0 {
			t.Fatalf("at once: %d messages, %v; want none", len(msgs), err)
		}
		h.wait(2100 * time.Millisecond)
		got := receiveAll(t, h, 1, 30*time.Second)
		if len(got) != 1 || got[0].Body != "later" {
			t.Fatalf("after the delay: %+v", got)
		}
	})

	t.Run("bad arguments are refused and send nothing", func(t *testing.T) {
		h := open(t)
		for _, c := range []struct {
			body  string
			delay time.Duration
		}{{"", 0}, {"x", -time.Second}, {"x", queue.MaxDelay + time.Second}} {
			if err := h.q.Send(ctx, c.body, c.delay); !errors.Is(err, queue.ErrInvalid) {
				t.Errorf("Send(%q, %s) = %v, want ErrInvalid", c.body, c.delay, err)
			}
		}
		if _, err := h.q.Receive(ctx, queue.MaxBatch+1, time.Second); !errors.Is(err, queue.ErrInvalid) {
			t.Errorf("Receive(11) = %v, want ErrInvalid", err)
		}
		if _, err := h.q.Receive(ctx, 0, time.Second); !errors.Is(err, queue.ErrInvalid) {
			t.Errorf("Receive(0) = %v, want ErrInvalid", err)
		}
		if err := h.q.Send(ctx, "edge", queue.MaxDelay); err != nil {
			t.Errorf("Send with the longest delay: %v", err)
		}
		if msgs, err := h.q.Receive(ctx, queue.MaxBatch, time.Second); err != nil || len(msgs) != 0 {
			t.Fatalf("%d messages visible, %v; want none", len(msgs), err)
		}
	})
}

func TestMemoryQueueConforms(t *testing.T) {
	conformance(t, func(t *testing.T) harness {
		clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		return harness{q: &queue.Memory{Clock: clk}, wait: clk.Advance}
	})
}

var queueSeq atomic.Int64

func TestSQSQueueConformsOnElasticMQ(t *testing.T) {
	endpoint := testenv.SQS(t)
	conformance(t, func(t *testing.T) harness {
		name := fmt.Sprintf("conformance-%d-%d", time.Now().UnixNano(), queueSeq.Add(1))
		q, err := sqsqueue.CreateQueue(context.Background(), endpoint, name, sqsqueue.Queue{Region: "us-east-1"})
		if err != nil {
			t.Fatal(err)
		}
		return harness{q: q, wait: time.Sleep}
	})
}

func TestMemoryReadySignalsAnUndelayedSend(t *testing.T) {
	m := &queue.Memory{}
	ready := m.Ready()
	if err := m.Send(context.Background(), "later", time.Minute); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ready:
		t.Fatal("a delayed send signalled ready")
	default:
	}
	if err := m.Send(context.Background(), "now", 0); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ready:
	default:
		t.Fatal("an undelayed send did not signal ready")
	}
}
