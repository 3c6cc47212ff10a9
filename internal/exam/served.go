package exam

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/goodfaith/goodfaith/internal/fault"
	"github.com/goodfaith/goodfaith/internal/parallel"
	"github.com/goodfaith/goodfaith/internal/presence"
	"github.com/goodfaith/goodfaith/internal/routing"
	"github.com/goodfaith/goodfaith/internal/rules"
	"github.com/goodfaith/goodfaith/internal/store"
)

// ServedTTL is how long the network's eligibility index (built from the
// provider directory) is reused before it is read again. Directory writes
// in this process drop it at once (DirectoryChanged); other processes see
// them within the TTL.
const ServedTTL = time.Minute

// servedCache holds the routing index of every provider in the directory,
// for "is this state served" and for counting eligible providers online.
type servedCache struct {
	mu    sync.Mutex
	ix    *routing.Index
	built time.Time
}

// DirectoryChanged drops the cached provider index, so the next question
// reads the directory again (call it after writing providers).
func (s *Service) DirectoryChanged() {
	s.served.mu.Lock()
	s.served.ix = nil
	s.served.mu.Unlock()
}

// network returns the index of every provider, as of today, rebuilt when
// older than ServedTTL or from another day (licences expire by the day).
func (s *Service) network(ctx context.Context, now time.Time) (*routing.Index, error) {
	s.served.mu.Lock()
	defer s.served.mu.Unlock()
	day := now.UTC().Truncate(24 * time.Hour)
	if s.served.ix != nil && now.Sub(s.served.built) < ServedTTL && !s.served.built.UTC().Truncate(24*time.Hour).Before(day) {
		return s.served.ix, nil
	}
	ps, err := s.Directory.Providers(ctx)
	if err != nil {
		return nil, err
	}
	s.served.ix, s.served.built = routing.NewIndex(ps, now), now
	return s.served.ix, nil
}

// ReadNetwork reads the provider index now unless the cached one is fresh,
// so that the Serves and ExpectedWaits calls that follow answer from
// memory. A caller with other independent reads to make (the widget
// config) starts it alongside them instead of waiting for it in its first
// Serves.
func (s *Service) ReadNetwork(ctx context.Context) error {
	_, err := s.network(ctx, s.now())
	return err
}

// Serves reports whether any provider in the network may take an exam in
// state for categories under rule today: an active licence there of an
// allowed type, the categories credentialed and, when the rule needs it, a
// DEA registration there. Presence and claims do not count: a provider
// offline now may still take an async exam later.
func (s *Service) Serves(ctx context.Context, state string, categories []string, rule rules.Exam) (bool, error) {
	now := s.now()
	ix, err := s.network(ctx, now)
	if err != nil {
		return false, err
	}
	return serves(ix, state, categories, rule), nil
}

func serves(ix *routing.Index, state string, categories []string, rule rules.Exam) bool {
	_, ok := ix.Choose(routing.Request{State: state, Categories: categories, Modality: rules.Async, Rule: rule}, nil, 1)
	return ok
}

// checkServed refuses an exam no provider in the network may take:
// 422 state_not_served, with the reason.
func (s *Service) checkServed(ctx context.Context, state string, categories []string, rule rules.Exam) error {
	now := s.now()
	ix, err := s.network(ctx, now)
	if err != nil {
		return err
	}
	if serves(ix, state, categories, rule) {
		return nil
	}
	reason, msg := "no_licensed_provider", fmt.Sprintf("no provider in our network holds an active licence in %s of a type that may perform this exam", state)
	if rule.RequiresDEAInState {
		noDEA := rule
		noDEA.RequiresDEAInState = false
		if serves(ix, state, categories, noDEA) {
			reason, msg = "no_dea_registered_provider", fmt.Sprintf("no provider in our network licensed in %s holds the DEA registration there this treatment needs", state)
		}
	}
	return &fault.Error{Kind: fault.ErrInvalid, Code: "state_not_served", Field: "patient.state", Message: msg,
		Details: map[string]any{"reason": reason, "state": state}}
}

// Handling times per exam used by the wait estimate. Decision throughput
// is not measured yet (no index of recent decisions), so these are
// defaults, and the estimate says so.
var defaultHandling = map[string]time.Duration{"async": 10 * time.Minute, "video": 15 * time.Minute}

// StateWait is the expected wait for a new exam in one state.
type StateWait struct {
	Async           routing.WaitEstimate
	Video           *routing.WaitEstimate // nil: video not offered there (rules or hours)
	QueueDepth      int                   // queued exams in the state
	VideoQueueDepth int                   // of which live video
	Online          int                   // eligible providers online (any offered treatment)
	VideoOnline     int                   // of those, eligible for a video-allowed treatment
	Handling        map[string]time.Duration
}

// ExpectedWaits estimates, per state, how long a new exam waits to be
// claimed: from the state's queue depth and the eligible providers online
// (routing.EstimateWait). offered maps state → treatment → the clinic's
// rule there; videoOpen says whether live video is offered now (hours).
// It reads the online providers and each state's queue at once (at most
// waitParallelism queues at a time): every widget load waits on these
// reads, one round trip each when made in a row.
func (s *Service) ExpectedWaits(ctx context.Context, offered map[string]map[string]rules.Exam, videoOpen bool) (map[string]StateWait, error) {
	now := s.now()
	ix, err := s.network(ctx, now)
	if err != nil {
		return nil, err
	}
	states := slices.Sorted(maps.Keys(offered)) // a fixed order for the joined errors
	type depth struct{ all, video int }
	depths := make([]depth, len(states))
	var online map[string]bool
	err = parallel.Do(ctx,
		func(ctx context.Context) (err error) {
			online, err = presence.OnlineNow(ctx, s.Store, s.Clock)
			return err
		},
		func(ctx context.Context) error {
			return parallel.Each(ctx, len(states), waitParallelism, func(ctx context.Context, i int) (err error) {
				depths[i].all, depths[i].video, err = s.queueDepth(ctx, states[i])
				return err
			})
		})
	if err != nil {
		return nil, err
	}
	live := func(id string) routing.Live { return routing.Live{Online: online[id]} }
	pol := s.Queueing()
	out := map[string]StateWait{}
	for i, state := range states {
		depth, videoDepth := depths[i].all, depths[i].video
		all, video := map[string]bool{}, map[string]bool{}
		videoAllowed := false
		for t, rule := range offered[state] {
			for _, c := range ix.Eligible(routing.Request{State: state, Categories: []string{t}, Modality: rules.Async, Rule: rule}, live, int(^uint(0)>>1), true) {
				all[c.ProviderID] = true
				if rule.Allows(rules.Video) {
					video[c.ProviderID] = true
				}
			}
			videoAllowed = videoAllowed || rule.Allows(rules.Video)
		}
		w := StateWait{QueueDepth: depth, VideoQueueDepth: videoDepth, Online: len(all), VideoOnline: len(video), Handling: defaultHandling}
		w.Async = routing.EstimateWait(routing.WaitInput{Ahead: depth, Online: len(all), Handling: defaultHandling["async"], Target: pol.Escalate["async"]})
		if videoAllowed && videoOpen {
			v := routing.EstimateWait(routing.WaitInput{Ahead: videoDepth, Online: len(video), Handling: defaultHandling["video"], Target: pol.Escalate["video"], Video: true})
			w.Video = &v
		}
		out[state] = w
	}
	return out, nil
}

// waitParallelism is how many states' queues ExpectedWaits reads at once:
// a clinic offered in many states does not open a connection per state.
const waitParallelism = 8

// queueDepth counts a state's queued exams, and how many are live video.
func (s *Service) queueDepth(ctx context.Context, state string) (all, video int, err error) {
	q := store.Query{Index: store.ByGSI2, PK: QueueIndexPK(state), Limit: store.MaxQueryLimit}
	for {
		page, err := s.Store.Query(ctx, q)
		if err != nil {
			return 0, 0, err
		}
		for _, it := range page.Items {
			// Only the two fields counted are decoded: every widget load
			// counts every offered state's queue, and decoding whole exams
			// (history, answers) was an eighth of the embedded server's
			// CPU in a load run with a backlog.
			var e struct {
				Status   Status `json:"status"`
				Modality string `json:"modality"`
			}
			if err := json.Unmarshal(it.Data, &e); err != nil {
				return 0, 0, err
			}
			if e.Status != Queued {
				continue
			}
			all++
			if e.Modality == string(rules.Video) {
				video++
			}
		}
		if page.Cursor == "" {
			return all, video, nil
		}
		q.Cursor = page.Cursor
	}
}
