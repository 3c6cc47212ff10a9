package httpapi

import (
	"github.com/goodfaith/goodfaith/internal/routing"
	"github.com/goodfaith/goodfaith/internal/rules"
)

// offer tells whether a provider in the network may take treatment t in
// state st under the clinic's rule ex (a state nobody is licensed in is
// not offered), and records it in offered for the wait estimate.
func (a *api) offer(c *call, offered map[string]map[string]rules.Exam, st, t string, ex rules.Exam) (bool, error) {
	served, err := a.Exams.Serves(c.r.Context(), st, []string{t}, ex)
	if err != nil || !served {
		return false, err
	}
	if offered[st] == nil {
		offered[st] = map[string]rules.Exam{}
	}
	offered[st][t] = ex
	return true, nil
}

// expectedWaitView is the widget config's expected_wait: per offered state,
// the estimated minutes until a provider claims a new async exam and (when
// live video is offered there now) a new video exam, from the state's queue
// depth and the eligible providers online (exam.ExpectedWaits). The hours'
// expected_wait keeps the SLA targets.
func (a *api) expectedWaitView(c *call, offered map[string]map[string]rules.Exam, videoOpen bool) (map[string]any, error) {
	waits, err := a.Exams.ExpectedWaits(c.r.Context(), offered, videoOpen)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	for st, w := range waits {
		v := map[string]any{
			"async_minutes": minutesOrNil(w.Async), "basis": w.Async.Basis,
			"video_minutes": nil, "video_basis": "video_not_offered",
			"queue_depth": w.QueueDepth, "video_queue_depth": w.VideoQueueDepth,
			"providers_online": w.Online, "video_providers_online": w.VideoOnline,
			"handling_minutes": map[string]any{"async": int(w.Handling["async"].Minutes()), "video": int(w.Handling["video"].Minutes()), "measured": false},
		}
		if w.Video != nil {
			v["video_minutes"], v["video_basis"] = minutesOrNil(*w.Video), w.Video.Basis
		}
		out[st] = v
	}
	return out, nil
}

func minutesOrNil(w routing.WaitEstimate) any {
	if !w.Known {
		return nil
	}
	return w.Minutes
}
