package routing

import (
	"math"
	"time"
)

// WaitInput is what an expected-wait estimate for one state and modality
// is made from.
type WaitInput struct {
	// Ahead is how many queued exams a new one would wait behind (for
	// video, the state's queued video exams; for async, all of its
	// queued exams, since video ones sort first by their shorter SLA).
	Ahead int
	// Online is how many providers eligible there are online now.
	Online int
	// Handling is how long a provider takes over one exam: measured from
	// recent decisions when there are any, else a default.
	Handling time.Duration
	// Target is the SLA escalation target for the modality, the answer
	// when nobody is online to take an async exam.
	Target time.Duration
	// Video: a live video exam needs a provider online; with none, there
	// is no estimate.
	Video bool
}

// Wait bases.
const (
	BasisQueue     = "queue_depth_and_online_providers"
	BasisNoneAsync = "no_eligible_provider_online_sla_target"
	BasisNoneVideo = "no_eligible_provider_online"
)

// WaitEstimate is an expected wait in whole minutes (rounded up); Known is
// false when there is no honest number (video with nobody online).
type WaitEstimate struct {
	Minutes int
	Known   bool
	Basis   string
}

// EstimateWait estimates how long a new exam waits to be claimed: the
// exams ahead of it shared among the eligible providers online, each
// taking Handling per exam, plus one Handling for a provider to become
// free when every one is busy (Ahead ≥ Online). With nobody online an
// async exam waits for the SLA target (when everyone eligible is told),
// and a video exam has no estimate.
func EstimateWait(in WaitInput) WaitEstimate {
	if in.Online <= 0 {
		if in.Video {
			return WaitEstimate{Basis: BasisNoneVideo}
		}
		return WaitEstimate{Minutes: ceilMinutes(in.Target), Known: true, Basis: BasisNoneAsync}
	}
	ahead := max(in.Ahead, 0)
	// Rounds of work before a provider is free for this exam.
	rounds := ahead / in.Online
	d := time.Duration(rounds) * in.Handling
	return WaitEstimate{Minutes: max(ceilMinutes(d), 1), Known: true, Basis: BasisQueue}
}

func ceilMinutes(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int(math.Ceil(d.Minutes()))
}
