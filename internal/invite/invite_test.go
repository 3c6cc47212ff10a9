package invite_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/goodfaith/goodfaith/internal/app"
	"github.com/goodfaith/goodfaith/internal/app/localhome"
	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/directory/seedtest"
	"github.com/goodfaith/goodfaith/internal/exam"
	"github.com/goodfaith/goodfaith/internal/notify"
)

// flaky is a notifier that records every message it is asked to send and
// fails email while failing is set.
type flaky struct {
	mu      sync.Mutex
	ids     []string
	failing bool
}

func (f *flaky) Notify(_ context.Context, m notify.Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ids = append(f.ids, m.ID)
	if f.failing && m.Channel == "email" {
		return errors.New("ses: throttled")
	}
	return nil
}

// Every resend is a new message: each round's ids differ from every
// earlier round's, so a notifier that de-duplicates on the id (the
// outbox-backed router does) never takes a second resend for the first;
// a message already sent is not sent again.
func TestEachResendSendsNewMessages(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC))
	local, err := localhome.Open(t.TempDir(), "http://127.0.0.1:1", clk, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { local.Close() })
	n := &flaky{failing: true}
	ports := local.Ports
	ports.Notifier = n
	a, err := app.New(ports, app.Settings{Clock: clk, PatientSecret: local.PatientSecret, TokenIssuer: "http://127.0.0.1:1", PublicOrigin: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	seed := seedtest.E2E(t)
	if err := a.LoadSeed(ctx, seed); err != nil {
		t.Fatal(err)
	}
	clinic, err := a.Directory.Clinic(ctx, "clinic_a")
	if err != nil {
		t.Fatal(err)
	}
	inv, err := a.Integrations.Invites.Create(ctx, clinic, exam.CreateInput{
		Patient:    exam.Patient{FirstName: "Ana", LastName: "Ruiz", DOB: "1988-02-03", Email: "ana@example.com", Phone: "+15125550100", State: "TX"},
		Treatments: []string{"neurotoxin"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if inv, err = a.Integrations.Invites.Resend(ctx, clinic, inv.ExamID); err != nil {
			t.Fatal(err)
		}
		if inv.Notifications[0].Status != "failed" {
			t.Fatalf("email %+v; the notifier failed it", inv.Notifications[0])
		}
	}
	n.failing = false
	if inv, err = a.Integrations.Invites.Resend(ctx, clinic, inv.ExamID); err != nil {
		t.Fatal(err)
	}
	if inv.Notifications[0].Status != "sent" || inv.Notifications[1].Status != "sent" {
		t.Fatalf("after the last resend: %+v", inv.Notifications)
	}
	// Creation sent email and SMS; each resend sent the email only.
	want := []string{
		"invite-" + inv.ExamID + "-email-0", "invite-" + inv.ExamID + "-sms-0",
		"invite-" + inv.ExamID + "-email-1", "invite-" + inv.ExamID + "-email-2",
		"invite-" + inv.ExamID + "-email-3", "invite-" + inv.ExamID + "-email-4",
	}
	if len(n.ids) != len(want) {
		t.Fatalf("messages %v, want %v", n.ids, want)
	}
	for i := range want {
		if n.ids[i] != want[i] {
			t.Fatalf("messages %v, want %v", n.ids, want)
		}
	}
}
