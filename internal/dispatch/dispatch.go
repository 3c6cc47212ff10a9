// Package dispatch is the change-feed consumer that tells providers about
// newly queued exams they may take. It runs on DynamoDB Streams in AWS and
// on the embedded store's feed locally, with the same handler.
package dispatch

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/directory"
	"github.com/goodfaith/goodfaith/internal/exam"
	"github.com/goodfaith/goodfaith/internal/notify"
	"github.com/goodfaith/goodfaith/internal/routing"
	"github.com/goodfaith/goodfaith/internal/rules"
	"github.com/goodfaith/goodfaith/internal/store"
)

// ConsumerName names this consumer's checkpoint.
const ConsumerName = "dispatch"

// Dispatcher notifies eligible providers of queued exams.
type Dispatcher struct {
	Store    store.Store
	Rules    *rules.Set
	Notifier notify.Notifier
	Clock    clock.Clock
}

// Handle is a store.ChangeHandler. It is idempotent: each notification's id
// derives from the change and the provider, so a redelivered change sends
// nothing new.
func (d Dispatcher) Handle(ctx context.Context, changes []store.Change) error {
	for _, ch := range changes {
		if !exam.IsExamItem(ch.New) {
			continue
		}
		e, err := exam.FromItem(*ch.New)
		if err != nil {
			return err
		}
		wasQueued := false
		if exam.IsExamItem(ch.Old) {
			old, err := exam.FromItem(*ch.Old)
			if err != nil {
				return err
			}
			wasQueued = old.Status == exam.Queued
		}
		if e.Status != exam.Queued || wasQueued {
			continue
		}
		if err := d.notifyEligible(ctx, ch.ID, e); err != nil {
			return err
		}
	}
	return nil
}

func (d Dispatcher) notifyEligible(ctx context.Context, changeID string, e exam.Exam) error {
	now := d.Clock.Now()
	rule, err := d.Rules.ForExam(e.State, e.Treatments, now)
	if err != nil {
		return nil // no longer servable; the SLA sweep will expire it
	}
	q := store.Query{Index: store.ByGSI1, PK: "PROVIDERS", Limit: store.MaxQueryLimit}
	for {
		page, err := d.Store.Query(ctx, q)
		if err != nil {
			return err
		}
		for _, it := range page.Items {
			var p directory.Provider
			if err := json.Unmarshal(it.Data, &p); err != nil {
				return err
			}
			if routing.Check(p, e.State, e.Treatments, rule, now) != routing.Eligible {
				continue
			}
			// The message names no patient: only what a provider needs to
			// decide to open the queue.
			m := notify.Message{
				ID: "dispatch-" + changeID + "-" + p.ID, To: p.ID, Channel: "console", At: now,
				Subject: fmt.Sprintf("New %s exam in %s", e.Modality, e.State),
				Body:    fmt.Sprintf("A %s exam for %s is waiting in your queue.", e.Modality, strings.Join(e.Treatments, ", ")),
			}
			if err := d.Notifier.Notify(ctx, m); err != nil {
				return err
			}
		}
		if page.Cursor == "" {
			return nil
		}
		q.Cursor = page.Cursor
	}
}
