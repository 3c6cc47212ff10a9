package lambdaschedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/goodfaith/goodfaith/internal/billing"
	"github.com/goodfaith/goodfaith/internal/exam"
	"github.com/goodfaith/goodfaith/internal/parallel"
	"github.com/goodfaith/goodfaith/internal/webhook"
)

// DetailType is the detail-type of the events schedules send.
const DetailType = "Scheduled Event"

// Sources a scheduled event may come from: EventBridge Scheduler (the
// template's schedules) or an EventBridge rule.
var Sources = []string{"aws.scheduler", "aws.events"}

// ErrNotScheduled is returned for an event that is not a scheduled event.
var ErrNotScheduled = errors.New("lambdaschedule: not a scheduled event")

// Job is one run of a periodic job; counts say what it did (logged and
// answered).
type Job func(ctx context.Context) (counts map[string]int, err error)

// Result is a handler's answer.
type Result struct {
	Job    string         `json:"job"`
	Time   time.Time      `json:"time"` // the event's scheduled time
	Counts map[string]int `json:"counts"`
}

// Func is the Lambda handler signature.
type Func = func(context.Context, events.EventBridgeEvent) (Result, error)

// Handler runs job, named name in logs and answers, once per scheduled
// event. An event that is not a scheduled event is refused with
// ErrNotScheduled, without running the job.
func Handler(name string, job Job, log *slog.Logger) Func {
	if log == nil {
		log = slog.Default()
	}
	return func(ctx context.Context, e events.EventBridgeEvent) (Result, error) {
		if e.DetailType != DetailType || !validSource(e.Source) || e.Time.IsZero() {
			log.ErrorContext(ctx, "not a scheduled event", "job", name, "source", e.Source, "detail_type", e.DetailType)
			return Result{}, fmt.Errorf("%w (source %q, detail-type %q); %s runs on its schedule only", ErrNotScheduled, e.Source, e.DetailType, name)
		}
		start := time.Now()
		counts, err := job(ctx)
		if counts == nil {
			counts = map[string]int{}
		}
		attrs := []any{"job", name, "scheduled", e.Time.UTC().Format(time.RFC3339), "ms", time.Since(start).Milliseconds()}
		for k, v := range counts {
			attrs = append(attrs, k, v)
		}
		if err != nil {
			log.ErrorContext(ctx, "scheduled job failed", append(attrs, "error", err.Error())...)
			return Result{}, fmt.Errorf("%s: %w", name, err)
		}
		log.InfoContext(ctx, "scheduled job", attrs...)
		return Result{Job: name, Time: e.Time.UTC(), Counts: counts}, nil
	}
}

func validSource(s string) bool {
	for _, v := range Sources {
		if s == v {
			return true
		}
	}
	return false
}

// Sweep is the claim-lease and SLA sweep (exam.Service.Sweep).
func Sweep(exams *exam.Service) Job {
	return func(ctx context.Context) (map[string]int, error) {
		rep, err := exams.Sweep(ctx)
		return map[string]int{"escalated": rep.Escalated, "expired": rep.Expired, "leases_expired": rep.LeasesExpired}, err
	}
}

// Connections drops the signaling connection records past their expiry
// (app.App.SweepConnections, signal.Handler.SweepConnections): the sweep
// function runs it beside Sweep.
func Connections(sweep func(context.Context) (int, error)) Job {
	return func(ctx context.Context) (map[string]int, error) {
		n, err := sweep(ctx)
		return map[string]int{"connections_dropped": n}, err
	}
}

// Jobs runs independent jobs at once as one job: every one runs even if
// another fails, their counts are merged, and their errors joined. At once,
// because a scheduled function's run (and its cold start) should last as
// long as its slowest sweep, not as long as all of them together.
func Jobs(jobs ...Job) Job {
	return func(ctx context.Context) (map[string]int, error) {
		results := make([]map[string]int, len(jobs))
		err := parallel.Each(ctx, len(jobs), len(jobs), func(ctx context.Context, i int) (err error) {
			results[i], err = jobs[i](ctx)
			return err
		})
		counts := map[string]int{}
		for _, c := range results {
			for k, v := range c {
				counts[k] += v
			}
		}
		return counts, err
	}
}

// WebhookRedrive queues again the jobs of webhook deliveries overdue by
// more than webhook.RedriveGrace (webhook.Worker.Redrive): the deliveries
// themselves go out from the queue's consumer (lambdasqs).
func WebhookRedrive(w *webhook.Worker) Job {
	return func(ctx context.Context) (map[string]int, error) {
		n, err := w.Redrive(ctx, webhook.RedriveGrace)
		return map[string]int{"redriven": n}, err
	}
}

// MonthlyClose closes every clinic's due months (billing.MonthlyClose.Run).
func MonthlyClose(c billing.MonthlyClose) Job {
	return func(ctx context.Context) (map[string]int, error) {
		return nil, c.Run(ctx)
	}
}
