package invite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/goodfaith/goodfaith/internal/auth"
	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/directory"
	"github.com/goodfaith/goodfaith/internal/exam"
	"github.com/goodfaith/goodfaith/internal/fault"
	"github.com/goodfaith/goodfaith/internal/notify"
	"github.com/goodfaith/goodfaith/internal/store"
)

// TokenTTL is how long an invite link works.
const TokenTTL = 7 * 24 * time.Hour

// Notification is the fate of one message of an invite.
type Notification struct {
	Channel string    `json:"channel"` // email | sms
	Status  string    `json:"status"`  // sent | failed
	Error   string    `json:"error,omitempty"`
	At      time.Time `json:"at"`
}

// Invite is a clinic's invitation of a patient to an exam.
type Invite struct {
	ExamID        string         `json:"exam_id"`
	ClinicID      string         `json:"clinic_id"`
	URL           string         `json:"url"`
	ExpiresAt     time.Time      `json:"expires_at"`
	CreatedAt     time.Time      `json:"created_at"`
	Notifications []Notification `json:"notifications"`
	// Rounds counts the sends made (the creation's and each resend's); it
	// numbers the next round's message ids.
	Rounds int `json:"rounds,omitempty"`
}

// ErrNotFound: no such invite for this clinic.
var ErrNotFound = fault.NotFound("invite_not_found", "no such invite")

func key(examID string) store.Key { return store.Key{PK: "INVITE#" + examID, SK: "INVITE"} }

// Service runs invites.
type Service struct {
	Exams    *exam.Service
	Tokens   *auth.PatientTokens // issues the link's patient token (TokenTTL)
	Notifier notify.Notifier
	Store    store.Store
	Clock    clock.Clock
	// LinkBase is where the patient finishes the exam; the link adds the
	// exam id and, in the fragment (never sent to servers), the token.
	LinkBase string
}

// Create makes the draft and the link, then notifies the patient. The
// invite is returned even when a message failed: its Notifications say so.
func (s *Service) Create(ctx context.Context, c directory.Clinic, in exam.CreateInput) (Invite, error) {
	e, err := s.Exams.Create(ctx, c, in)
	if err != nil {
		return Invite{}, err
	}
	tok, exp, err := s.Tokens.Issue(e.ID, c.ID)
	if err != nil {
		return Invite{}, err
	}
	link := s.LinkBase + "?exam=" + url.QueryEscape(e.ID) + "#patient_token=" + url.QueryEscape(tok)
	inv := Invite{ExamID: e.ID, ClinicID: c.ID, URL: link, ExpiresAt: exp, CreatedAt: s.Clock.Now().UTC(), Notifications: []Notification{}}
	inv.Notifications, inv.Rounds = s.send(ctx, c, e, inv)
	if err := s.put(ctx, inv, 0); err != nil {
		return Invite{}, err
	}
	return inv, nil
}

// Get returns one of the clinic's invites.
func (s *Service) Get(ctx context.Context, clinicID, examID string) (Invite, error) {
	inv, _, err := s.get(ctx, examID)
	if err != nil {
		return Invite{}, err
	}
	if inv.ClinicID != clinicID {
		return Invite{}, ErrNotFound
	}
	return inv, nil
}

// Resend tries the failed messages of an invite again.
func (s *Service) Resend(ctx context.Context, c directory.Clinic, examID string) (Invite, error) {
	inv, version, err := s.get(ctx, examID)
	if err != nil {
		return Invite{}, err
	}
	if inv.ClinicID != c.ID {
		return Invite{}, ErrNotFound
	}
	e, err := s.Exams.ForClinic(ctx, c.ID, examID)
	if err != nil {
		return Invite{}, err
	}
	if e.Status != exam.Draft {
		return Invite{}, fault.Conflict("already_started", "the patient has already submitted this exam")
	}
	inv.Notifications, inv.Rounds = s.send(ctx, c, e, inv)
	return inv, s.put(ctx, inv, version)
}

func (s *Service) get(ctx context.Context, examID string) (Invite, int64, error) {
	it, err := s.Store.Get(ctx, key(examID))
	if errors.Is(err, store.ErrNotFound) {
		return Invite{}, 0, ErrNotFound
	}
	if err != nil {
		return Invite{}, 0, err
	}
	var inv Invite
	return inv, it.Version, json.Unmarshal(it.Data, &inv)
}

func (s *Service) put(ctx context.Context, inv Invite, version int64) error {
	data, _ := json.Marshal(inv) // plain data
	k := key(inv.ExamID)
	it := store.Item{PK: k.PK, SK: k.SK, Version: version + 1, Data: data,
		GSI1PK: "CLINIC#" + inv.ClinicID + "#INVITES", GSI1SK: store.SortableTime(inv.CreatedAt) + "#" + inv.ExamID}
	cond := store.IfAbsent
	if version > 0 {
		cond = store.IfVersion(version)
	}
	err := s.Store.Put(ctx, it, cond)
	if errors.Is(err, store.ErrConditionFailed) {
		return fault.Conflict("concurrent_update", "the invite changed while this request ran")
	}
	return err
}

// send delivers each message not yet sent and returns their fates and the
// rounds made. Message ids are per exam, channel and round, so every resend
// is a new message while a retried send of the same round is not.
func (s *Service) send(ctx context.Context, c directory.Clinic, e exam.Exam, inv Invite) ([]Notification, int) {
	round := inv.Rounds
	if round == 0 && len(inv.Notifications) > 0 {
		// An invite stored before rounds were counted numbered its rounds
		// by its notifications (at most one per channel): start past them.
		round = len(inv.Notifications) + 1
	}
	sent := map[string]bool{}
	for _, n := range inv.Notifications {
		sent[n.Channel] = sent[n.Channel] || n.Status == "sent"
	}
	channels := []struct{ channel, to string }{{"email", e.Patient.Email}}
	if e.Patient.Phone != "" {
		channels = append(channels, struct{ channel, to string }{"sms", e.Patient.Phone})
	}
	out := []Notification{}
	for _, ch := range channels {
		if sent[ch.channel] {
			out = append(out, Notification{Channel: ch.channel, Status: "sent", At: sentAt(inv, ch.channel)})
			continue
		}
		now := s.Clock.Now().UTC()
		m := notify.Message{
			ID: fmt.Sprintf("invite-%s-%s-%d", e.ID, ch.channel, round), To: ch.to, Channel: ch.channel, At: now,
			Subject: c.Name + " invites you to complete your good-faith exam",
			Body:    fmt.Sprintf("%s asks you to complete a short medical history before your treatment. Open this link to continue: %s", c.Name, inv.URL),
		}
		n := Notification{Channel: ch.channel, Status: "sent", At: now}
		if err := s.Notifier.Notify(ctx, m); err != nil {
			n.Status, n.Error = "failed", "the "+ch.channel+" could not be sent; try again later"
		}
		out = append(out, n)
	}
	return out, round + 1
}

func sentAt(inv Invite, channel string) time.Time {
	for _, n := range inv.Notifications {
		if n.Channel == channel && n.Status == "sent" {
			return n.At
		}
	}
	return time.Time{}
}
