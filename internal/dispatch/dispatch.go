// Package dispatch is the change-feed consumer that tells people what the
// queue did: eligible online providers when an exam enters the queue,
// every eligible provider (online or not) when it is escalated past its
// SLA, and the patient and the clinic when it expires unclaimed. It runs
// on DynamoDB Streams in AWS and on the embedded store's feed locally,
// with the same handler.
package dispatch

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/goodfaith/goodfaith/internal/clinicrules"
	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/directory"
	"github.com/goodfaith/goodfaith/internal/exam"
	"github.com/goodfaith/goodfaith/internal/notify"
	"github.com/goodfaith/goodfaith/internal/presence"
	"github.com/goodfaith/goodfaith/internal/routing"
	"github.com/goodfaith/goodfaith/internal/rules"
	"github.com/goodfaith/goodfaith/internal/store"
)

// ConsumerName names this consumer's checkpoint.
const ConsumerName = "dispatch"

// Dispatcher notifies providers, patients and clinics of queue events.
type Dispatcher struct {
	Store    store.Store
	Rules    *rules.Set
	Notifier notify.Notifier
	Clock    clock.Clock
	// ClaimLimit: providers holding this many exams are not offered more
	// (default routing.DefaultClaimLimit, which matches the exam service's).
	ClaimLimit int
}

// event is what a change means for the dispatcher.
type event int

const (
	none      event = iota
	queued          // entered the queue (submitted, released, lease ran out)
	escalated       // overdue: tell every eligible provider
	expired         // no provider in time: tell the patient and the clinic
)

func classify(old *exam.Exam, e exam.Exam) event {
	wasQueued := old != nil && old.Status == exam.Queued
	switch {
	case e.Status == exam.Queued && !wasQueued:
		return queued
	case wasQueued && exam.Escalated(*old, e):
		return escalated
	case wasQueued && e.Status == exam.Expired:
		return expired
	}
	return none
}

// Handle is a store.ChangeHandler. It is idempotent: each notification's id
// derives from the change (or the exam, for once-only events) and the
// recipient, so a redelivered change sends nothing new.
func (d Dispatcher) Handle(ctx context.Context, changes []store.Change) error {
	var pool *pool
	for _, ch := range changes {
		if !exam.IsExamItem(ch.New) {
			continue
		}
		e, err := exam.FromItem(*ch.New)
		if err != nil {
			return err
		}
		var old *exam.Exam
		if exam.IsExamItem(ch.Old) {
			o, err := exam.FromItem(*ch.Old)
			if err != nil {
				return err
			}
			old = &o
		}
		ev := classify(old, e)
		if ev == none {
			continue
		}
		if ev == expired {
			if err := d.tellExpired(ctx, e); err != nil {
				return err
			}
			continue
		}
		if pool == nil {
			if pool, err = d.loadPool(ctx); err != nil {
				return err
			}
		}
		if err := d.offer(ctx, pool, ch.ID, e, ev); err != nil {
			return err
		}
	}
	return nil
}

// pool is the providers and who is online, read once per batch.
type pool struct {
	index  *routing.Index
	online map[string]bool
	claims map[string]int // filled lazily
}

func (d Dispatcher) loadPool(ctx context.Context) (*pool, error) {
	var ps []directory.Provider
	q := store.Query{Index: store.ByGSI1, PK: "PROVIDERS", Limit: store.MaxQueryLimit}
	for {
		page, err := d.Store.Query(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, it := range page.Items {
			var p directory.Provider
			if err := json.Unmarshal(it.Data, &p); err != nil {
				return nil, err
			}
			ps = append(ps, p)
		}
		if page.Cursor == "" {
			break
		}
		q.Cursor = page.Cursor
	}
	online, err := presence.OnlineNow(ctx, d.Store, d.Clock)
	if err != nil {
		return nil, err
	}
	return &pool{index: routing.NewIndex(ps, d.Clock.Now()), online: online, claims: map[string]int{}}, nil
}

func (d Dispatcher) offer(ctx context.Context, pl *pool, changeID string, e exam.Exam, ev event) error {
	now := d.Clock.Now()
	ovs, err := clinicrules.Get(ctx, d.Store, e.ClinicID)
	if err != nil {
		return err
	}
	rule, err := d.Rules.ForClinicExam(e.State, e.Treatments, now, ovs.Rules)
	if err != nil {
		return nil // no longer servable; the SLA sweep will expire it
	}
	limit := d.ClaimLimit
	if limit <= 0 {
		limit = routing.DefaultClaimLimit
	}
	// Claims are counted only for the providers who pass every other test.
	var lookupErr error
	live := func(id string) routing.Live {
		n, ok := pl.claims[id]
		if !ok && pl.online[id] || !ok && ev == escalated {
			var err error
			if n, err = exam.ActiveClaims(ctx, d.Store, id); err != nil && lookupErr == nil {
				lookupErr = err
			}
			pl.claims[id] = n
		}
		return routing.Live{Online: pl.online[id], Claims: n}
	}
	req := routing.Request{State: e.State, Categories: e.Treatments, Modality: rules.Modality(e.Modality), Rule: rule}
	if ev == escalated {
		// Wider: offline providers are told too (they may come online),
		// whatever the modality.
		req.Modality = rules.Async
	}
	cands := pl.index.Eligible(req, live, limit, ev == queued)
	if lookupErr != nil {
		return lookupErr
	}
	for _, c := range cands {
		// The message names no patient: only what a provider needs to
		// decide to open the queue.
		m := notify.Message{To: c.ProviderID, Channel: "console", At: now}
		switch ev {
		case queued:
			m.ID = "dispatch-" + changeID + "-" + c.ProviderID
			m.Subject = fmt.Sprintf("New %s exam in %s", e.Modality, e.State)
			m.Body = fmt.Sprintf("A %s exam for %s is waiting in your queue.", e.Modality, strings.Join(e.Treatments, ", "))
		case escalated:
			m.ID = "escalate-" + e.ID + "-" + e.SLA.EscalatedAt.UTC().Format("20060102T150405.000000000") + "-" + c.ProviderID
			if !c.Live.Online {
				m.Channel = "email"
			}
			m.Subject = fmt.Sprintf("Overdue %s exam in %s", e.Modality, e.State)
			m.Body = fmt.Sprintf("A %s exam for %s has waited past its target and expires at %s unless someone takes it.", e.Modality, strings.Join(e.Treatments, ", "), e.SLA.Deadline.UTC().Format("15:04 MST, Jan 2"))
		}
		if err := d.Notifier.Notify(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

// tellExpired tells the patient (by email) and the clinic (on its
// dashboard) that no provider took the exam in time and it is not billed.
func (d Dispatcher) tellExpired(ctx context.Context, e exam.Exam) error {
	now := d.Clock.Now()
	msgs := []notify.Message{
		{ID: "expired-" + e.ID + "-patient", To: e.Patient.Email, Channel: "email", At: now,
			Subject: "Your exam request could not be completed",
			Body:    "No provider was available in time to review your exam request. You have not been charged; please start a new request from your clinic's website."},
		{ID: "expired-" + e.ID + "-clinic", To: e.ClinicID, Channel: "console", At: now,
			Subject: "An exam expired unclaimed",
			Body:    fmt.Sprintf("Exam %s expired without a provider. It is not billed.", e.ID)},
	}
	for _, m := range msgs {
		if m.To == "" {
			continue
		}
		if err := d.Notifier.Notify(ctx, m); err != nil {
			return err
		}
	}
	return nil
}
