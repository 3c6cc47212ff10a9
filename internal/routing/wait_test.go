package routing

import (
	"testing"
	"time"
)

func TestEstimateWait(t *testing.T) {
	const h = 10 * time.Minute
	cases := []struct {
		name string
		in   WaitInput
		want WaitEstimate
	}{
		{"empty queue, one online: a minute", WaitInput{Ahead: 0, Online: 1, Handling: h, Target: time.Hour}, WaitEstimate{1, true, BasisQueue}},
		{"fewer ahead than online: a minute", WaitInput{Ahead: 2, Online: 3, Handling: h, Target: time.Hour}, WaitEstimate{1, true, BasisQueue}},
		{"as many ahead as online: one round", WaitInput{Ahead: 3, Online: 3, Handling: h}, WaitEstimate{10, true, BasisQueue}},
		{"seven ahead, two online: three rounds", WaitInput{Ahead: 7, Online: 2, Handling: h}, WaitEstimate{30, true, BasisQueue}},
		{"more online, shorter wait", WaitInput{Ahead: 7, Online: 7, Handling: h}, WaitEstimate{10, true, BasisQueue}},
		{"fractional minutes round up", WaitInput{Ahead: 1, Online: 1, Handling: 90 * time.Second}, WaitEstimate{2, true, BasisQueue}},
		{"video uses the same arithmetic", WaitInput{Ahead: 4, Online: 2, Handling: 15 * time.Minute, Video: true}, WaitEstimate{30, true, BasisQueue}},
		{"async, nobody online: the SLA target", WaitInput{Ahead: 5, Online: 0, Handling: h, Target: time.Hour}, WaitEstimate{60, true, BasisNoneAsync}},
		{"video, nobody online: no estimate", WaitInput{Ahead: 0, Online: 0, Handling: h, Target: 5 * time.Minute, Video: true}, WaitEstimate{0, false, BasisNoneVideo}},
		{"negative ahead is empty", WaitInput{Ahead: -3, Online: 1, Handling: h}, WaitEstimate{1, true, BasisQueue}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := EstimateWait(c.in); got != c.want {
				t.Fatalf("EstimateWait(%+v) = %+v, want %+v", c.in, got, c.want)
			}
		})
	}
	// Monotone in depth: the estimate never shrinks as the queue grows.
	prev := 0
	for ahead := 0; ahead < 50; ahead++ {
		got := EstimateWait(WaitInput{Ahead: ahead, Online: 3, Handling: h}).Minutes
		if got < prev {
			t.Fatalf("ahead %d: %d minutes, less than %d", ahead, got, prev)
		}
		prev = got
	}
	if prev <= 1 {
		t.Fatalf("50 exams ahead of 3 providers still estimates %d minutes", prev)
	}
}
