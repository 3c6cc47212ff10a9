package exam

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/goodfaith/goodfaith/internal/presence"
	"github.com/goodfaith/goodfaith/internal/rules"
	"github.com/goodfaith/goodfaith/internal/store"
)

// neurotoxinOffered is a widget config's offer of neurotoxin in states,
// under the default rules.
func neurotoxinOffered(t *testing.T, svc *Service, states ...string) map[string]map[string]rules.Exam {
	t.Helper()
	offered := map[string]map[string]rules.Exam{}
	for _, st := range states {
		rule, err := svc.Rules.ForExam(st, []string{"neurotoxin"}, svc.now())
		if err != nil {
			t.Fatal(err)
		}
		offered[st] = map[string]rules.Exam{"neurotoxin": rule}
	}
	return offered
}

// TestExpectedWaitsCountsEachStateOwnQueue: the queues are read at once,
// and each state's estimate still carries its own queue's depths and its
// own eligible providers online.
func TestExpectedWaitsCountsEachStateOwnQueue(t *testing.T) {
	onBothStores(t, func(h *queueHarness) {
		t, ctx := h.t, h.t.Context()
		for range 3 {
			h.queued("TX", "async", "neurotoxin")
		}
		h.queued("TX", "video", "neurotoxin")
		h.queued("FL", "async", "neurotoxin")
		h.queued("FL", "async", "neurotoxin")
		// Online: both Texas providers, and the Maryland NP (who may not
		// take a Maryland neurotoxin exam; the Maryland MD is offline).
		for _, p := range []string{"tx_md", "tx_fl_np", "md_np"} {
			if _, err := presence.Set(ctx, h.svc.Store, h.clk, p, true); err != nil {
				t.Fatal(err)
			}
		}
		waits, err := h.svc.ExpectedWaits(ctx, neurotoxinOffered(t, h.svc, "TX", "FL", "MD"), false)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string][3]int{"TX": {4, 1, 2}, "FL": {2, 0, 1}, "MD": {0, 0, 0}} // depth, video depth, online
		if len(waits) != len(want) {
			t.Fatalf("estimates for %d states, want %d: %v", len(waits), len(want), waits)
		}
		for st, w := range want {
			got := waits[st]
			if [3]int{got.QueueDepth, got.VideoQueueDepth, got.Online} != w {
				t.Errorf("%s: depth %d, video depth %d, online %d; want %v", st, got.QueueDepth, got.VideoQueueDepth, got.Online, w)
			}
			if got.Video != nil {
				t.Errorf("%s: a video estimate while video is closed", st)
			}
		}
	})
}

// waitReads is a store whose queue and presence reads each wait until all
// of them have been asked for: ExpectedWaits only gets past it when it
// makes them at once. A read that waits for guard gives up with an error,
// so a sequential ExpectedWaits fails the test rather than hanging it.
type waitReads struct {
	store.Store
	want    int
	mu      sync.Mutex
	arrived int
	all     chan struct{}
	fail    map[string]error // queue or presence key → the error its read returns
}

const guard = 10 * time.Second

func (r *waitReads) Query(ctx context.Context, q store.Query) (store.Page, error) {
	if !(q.Index == store.ByGSI2 || q.Index == store.ByGSI1 && q.PK == "PRESENCE#ONLINE") {
		return r.Store.Query(ctx, q) // the provider directory
	}
	r.mu.Lock()
	r.arrived++
	if r.arrived == r.want {
		close(r.all)
	}
	r.mu.Unlock()
	select {
	case <-r.all:
	case <-time.After(guard):
		return store.Page{}, fmt.Errorf("%s waited alone: the queue and presence reads were not all under way together", q.PK)
	}
	if err := r.fail[q.PK]; err != nil {
		return store.Page{}, err
	}
	return r.Store.Query(ctx, q)
}

// TestExpectedWaitsReadsQueuesAndPresenceAtOnce: the presence read and the
// three states' queue reads are all under way together (each waits for
// the others), and one state's failure is the estimate's error.
func TestExpectedWaitsReadsQueuesAndPresenceAtOnce(t *testing.T) {
	onBothStores(t, func(h *queueHarness) {
		t, ctx := h.t, h.t.Context()
		h.queued("TX", "async", "neurotoxin")
		offered := neurotoxinOffered(t, h.svc, "TX", "FL", "MD")
		base := h.svc.Store
		reads := &waitReads{Store: base, want: 4, all: make(chan struct{})}
		h.svc.Store = reads
		waits, err := h.svc.ExpectedWaits(ctx, offered, false)
		if err != nil {
			t.Fatal(err)
		}
		if waits["TX"].QueueDepth != 1 {
			t.Fatalf("TX depth %d, want 1", waits["TX"].QueueDepth)
		}

		errFlorida := errors.New("florida's queue is unreadable")
		h.svc.Store = &waitReads{Store: base, want: 4, all: make(chan struct{}), fail: map[string]error{QueueIndexPK("FL"): errFlorida}}
		waits, err = h.svc.ExpectedWaits(ctx, offered, false)
		if !errors.Is(err, errFlorida) || waits != nil {
			t.Fatalf("ExpectedWaits = %v, %v; want no estimate and Florida's error", waits, err)
		}
	})
}
