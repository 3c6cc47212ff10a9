package e2e

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/goodfaith/goodfaith/internal/notify"
)

// flakySender fails its first n sends, then records each message.
type flakySender struct {
	mu    sync.Mutex
	fails int
	tries int
	sent  []notify.Message
}

func (s *flakySender) Send(_ context.Context, m notify.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tries++
	if s.tries <= s.fails {
		return errors.New("ses: ServiceUnavailable")
	}
	s.sent = append(s.sent, m)
	return nil
}

func (s *flakySender) sends() []notify.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]notify.Message(nil), s.sent...)
}

// TestInviteNotificationFailureIsShownAndResent: the invite's email fails
// at the delivery service; the clinic sees it on the invite, resends, and
// the email goes out once while the SMS that did go out is not sent again.
func TestInviteNotificationFailureIsShownAndResent(t *testing.T) {
	forEachHome(t, func(t *testing.T, open func(testing.TB, bool) *env) {
		e := open(t, false)
		email, sms := &flakySender{fails: 1}, &flakySender{}
		// The AWS notifier (SES/SNS senders behind the outbox router), with
		// senders that stand in for the services. Set before any request.
		e.App.Integrations.Invites.Notifier = notify.Router{Store: e.Store, Log: quietLog(),
			Senders: map[string]notify.Sender{"email": email, "sms": sms}}
		clinicA := bearer(skA)

		inv := e.must(201, e.do("POST", "/v1/clinic/invites", clinicA, map[string]any{
			"patient": map[string]any{"first_name": "Ana", "last_name": "Ruiz", "dob": "1988-02-03",
				"email": "ana@example.com", "phone": "+15125550100", "state": "TX"},
			"treatments": []string{"neurotoxin"},
		})).json(t)
		id, _ := inv["exam_id"].(string)
		fates := func(v map[string]any) map[string]map[string]any {
			out := map[string]map[string]any{}
			for _, n := range v["notifications"].([]any) {
				m := n.(map[string]any)
				out[m["channel"].(string)] = m
			}
			return out
		}
		for _, v := range []map[string]any{inv, e.must(200, e.do("GET", "/v1/clinic/invites/"+id, clinicA, nil)).json(t)} {
			f := fates(v)
			if f["email"]["status"] != "failed" || f["email"]["error"] == nil || f["sms"]["status"] != "sent" {
				t.Fatalf("invite after a failed email = %v", v)
			}
			if msg := f["email"]["error"].(string); strings.Contains(msg, "ServiceUnavailable") || strings.Contains(msg, "ana@") {
				t.Fatalf("the clinic sees the service's error text: %q", msg)
			}
		}
		if len(email.sends()) != 0 || len(sms.sends()) != 1 {
			t.Fatalf("sent %d emails, %d sms", len(email.sends()), len(sms.sends()))
		}

		// Resent: the email goes out, the SMS is not sent twice.
		e.must(200, e.do("POST", "/v1/clinic/invites/"+id+"/resend", clinicA, nil))
		got := e.must(200, e.do("GET", "/v1/clinic/invites/"+id, clinicA, nil)).json(t)
		if f := fates(got); f["email"]["status"] != "sent" || f["sms"]["status"] != "sent" {
			t.Fatalf("invite after resend = %v", got)
		}
		e.must(200, e.do("POST", "/v1/clinic/invites/"+id+"/resend", clinicA, nil)) // nothing left to send
		sent := email.sends()
		if len(sent) != 1 || len(sms.sends()) != 1 || sent[0].To != "ana@example.com" || !strings.Contains(sent[0].Body, id) {
			t.Fatalf("emails %v, %d sms", sent, len(sms.sends()))
		}
		// Another clinic neither sees nor resends it.
		e.must(404, e.do("GET", "/v1/clinic/invites/"+id, bearer(skB), nil))
		e.must(404, e.do("POST", "/v1/clinic/invites/"+id+"/resend", bearer(skB), nil))
	})
}
