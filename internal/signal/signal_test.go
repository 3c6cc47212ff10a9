package signal_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/goodfaith/goodfaith/internal/exam"
	"github.com/goodfaith/goodfaith/internal/presence"
	"github.com/goodfaith/goodfaith/internal/signal"
	"github.com/goodfaith/goodfaith/internal/signal/signaltest"
	"github.com/goodfaith/goodfaith/internal/store"
)

type msg = map[string]any

func TestConnectRefusesMissingAndInvalidTokens(t *testing.T) {
	signaltest.ForEachHome(t, func(t *testing.T, f *signaltest.Fixture) {
		before := f.Items()
		expired, err := f.Iss.Mint("prov_tx_md", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		f.Clock.Advance(10 * time.Minute)
		for name, tok := range map[string]string{"empty": "", "garbage": "not-a-token", "expired provider": expired, "tampered": f.PatientToken("exam_x") + "x"} {
			if _, err := f.H.Connect(context.Background(), "c-"+name, tok); !errors.Is(err, signal.ErrUnauthorized) {
				t.Errorf("%s: %v, want ErrUnauthorized", name, err)
			}
		}
		if after := f.Items(); after != before {
			t.Fatalf("refused connects wrote %d items", after-before)
		}
		if err := f.H.Message(context.Background(), "c-garbage", []byte(`{"type":"join","exam_id":"x"}`)); !errors.Is(err, signal.ErrUnknownConnection) {
			t.Fatalf("message on a refused connection: %v", err)
		}
	})
}

func TestVideoExamRingsAcceptsConsultsAndRelays(t *testing.T) {
	signaltest.ForEachHome(t, func(t *testing.T, f *signaltest.Fixture) {
		id := f.QueuedVideoExam("exam_v1")
		f.Connect("prov", f.ProviderToken("prov_tx_md"))
		f.Connect("prov_ca", f.ProviderToken("prov_ca_md")) // online, not licensed in TX
		if on, _ := presence.Online(context.Background(), f.Store, f.Clock, "prov_tx_md"); !on {
			t.Fatal("a connected provider is not online")
		}

		f.Connect("pat", f.PatientToken(id))
		f.Say("pat", msg{"type": "join", "exam_id": id})
		ack := signaltest.Only(t, "patient", f.Rec.Take("pat"))
		if ack.Type != "join" || ack.Role != "patient" || len(ack.Peers) != 0 || ack.Status != "queued" {
			t.Fatalf("patient join ack %+v", ack)
		}
		ring := signaltest.Only(t, "provider", f.Rec.Take("prov"))
		if ring.Type != "ring" || ring.ExamID != id || ring.State != "TX" || !slices.Equal(ring.Treatments, []string{"neurotoxin"}) {
			t.Fatalf("ring %+v", ring)
		}
		raw, _ := json.Marshal(ring)
		for _, phi := range []string{"Maria", "Garcia", "1990", "example.com"} {
			if json.Valid(raw) && contains(string(raw), phi) {
				t.Fatalf("the ring carries PHI %q: %s", phi, raw)
			}
		}
		if got := f.Rec.Take("prov_ca"); len(got) != 0 {
			t.Fatalf("an ineligible provider was rung: %+v", got)
		}

		// A provider who does not hold the claim may not join; accepting is the claim.
		f.Say("prov", msg{"type": "join", "exam_id": id})
		if e := signaltest.Only(t, "provider", f.Rec.Take("prov")); e.Type != "error" || e.Code != "exam_not_found" {
			t.Fatalf("join before claim: %+v", e)
		}
		f.Say("prov", msg{"type": "ring", "exam_id": id, "action": "accept"})
		if e := f.Exam(id); e.Status != exam.InConsult || e.ProviderID != "prov_tx_md" {
			t.Fatalf("after accept and join: %s held by %q", e.Status, e.ProviderID)
		}
		pj := signaltest.Only(t, "provider", f.Rec.Take("prov"))
		if pj.Type != "join" || pj.Role != "provider" || !slices.Equal(pj.Peers, []string{"patient"}) {
			t.Fatalf("provider join ack %+v", pj)
		}
		if n := signaltest.Only(t, "patient", f.Rec.Take("pat")); n.Type != "join" || n.From != "provider" {
			t.Fatalf("patient told %+v", n)
		}

		// Another provider cannot take it any more.
		if got := f.Rec.Take("prov_ca"); len(got) != 0 {
			t.Fatalf("an ineligible provider heard of the exam: %+v", got)
		}
		f.Say("prov_ca", msg{"type": "ring", "exam_id": id, "action": "accept"})
		if e := signaltest.Only(t, "other provider", f.Rec.Take("prov_ca")); e.Type != "error" || e.Code == "" {
			t.Fatalf("second accept: %+v", e)
		}

		// Offers, answers and candidates go to the other party only, with from.
		f.Say("prov", msg{"type": "offer", "exam_id": id, "sdp": msg{"type": "offer", "sdp": "v=0"}, "sent_at": 42})
		o := signaltest.Only(t, "patient", f.Rec.Take("pat"))
		if o.Type != "offer" || o.From != "provider" || string(o.SDP) != `{"sdp":"v=0","type":"offer"}` || o.SentAt != 42 {
			t.Fatalf("relayed offer %+v (%s)", o, o.SDP)
		}
		if got := f.Rec.Take("prov"); len(got) != 0 {
			t.Fatalf("the sender got its own offer back: %+v", got)
		}
		f.Say("pat", msg{"type": "candidate", "exam_id": id, "candidate": msg{"candidate": "candidate:1 1 udp 1 127.0.0.1 5000 typ host"}})
		if c := signaltest.Only(t, "provider", f.Rec.Take("prov")); c.Type != "candidate" || c.From != "patient" {
			t.Fatalf("relayed candidate %+v", c)
		}

		// Leave tells the other side; relaying after leaving is refused.
		f.Say("pat", msg{"type": "leave", "exam_id": id})
		if l := signaltest.Only(t, "patient", f.Rec.Take("pat")); l.Type != "leave" {
			t.Fatalf("leave ack %+v", l)
		}
		if l := signaltest.Only(t, "provider", f.Rec.Take("prov")); l.Type != "leave" || l.From != "patient" {
			t.Fatalf("provider told %+v", l)
		}
		f.Say("pat", msg{"type": "answer", "exam_id": id, "sdp": msg{"type": "answer", "sdp": "v=0"}})
		if e := signaltest.Only(t, "patient", f.Rec.Take("pat")); e.Type != "error" || e.Code != "not_joined" {
			t.Fatalf("relay after leave: %+v", e)
		}

		// Reconnect on a new connection: the patient rejoins the consult.
		f.Connect("pat2", f.PatientToken(id))
		f.Say("pat2", msg{"type": "join", "exam_id": id})
		if a := signaltest.Only(t, "patient", f.Rec.Take("pat2")); a.Type != "join" || !slices.Equal(a.Peers, []string{"provider"}) || a.Status != "in_consult" {
			t.Fatalf("rejoin ack %+v", a)
		}
		if n := signaltest.Only(t, "provider", f.Rec.Take("prov")); n.Type != "join" || n.From != "patient" {
			t.Fatalf("provider told of rejoin %+v", n)
		}
	})
}

func contains(s, sub string) bool {
	return len(sub) > 0 && len(s) >= len(sub) && (s == sub || index(s, sub) >= 0)
}

func index(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func TestThirdPartiesCannotJoin(t *testing.T) {
	signaltest.ForEachHome(t, func(t *testing.T, f *signaltest.Fixture) {
		id := f.QueuedVideoExam("exam_v2")
		other := f.QueuedVideoExam("exam_other")
		f.Connect("prov", f.ProviderToken("prov_tx_md"))
		f.Connect("pat", f.PatientToken(id))
		f.Say("pat", msg{"type": "join", "exam_id": id})
		f.Say("prov", msg{"type": "ring", "exam_id": id, "action": "accept"})
		f.Rec.Take("pat")
		f.Rec.Take("prov")

		f.Connect("stranger", f.PatientToken(other))   // another patient
		f.Connect("np", f.ProviderToken("prov_tx_np")) // a provider licensed there, not holding the claim
		for _, c := range []string{"stranger", "np"} {
			f.Say(c, msg{"type": "join", "exam_id": id})
			if e := signaltest.Only(t, c, f.Rec.Take(c)); e.Type != "error" || e.Code != "exam_not_found" {
				t.Fatalf("%s joined: %+v", c, e)
			}
			f.Say(c, msg{"type": "offer", "exam_id": id, "sdp": msg{"type": "offer", "sdp": "x"}})
			if e := signaltest.Only(t, c, f.Rec.Take(c)); e.Type != "error" || e.Code != "not_joined" {
				t.Fatalf("%s relayed: %+v", c, e)
			}
		}
		f.Say("stranger", msg{"type": "join", "exam_id": "exam_missing"})
		if e := signaltest.Only(t, "stranger", f.Rec.Take("stranger")); e.Code != "exam_not_found" {
			t.Fatalf("a missing exam: %+v", e)
		}
		if got := append(f.Rec.Take("pat"), f.Rec.Take("prov")...); len(got) != 0 {
			t.Fatalf("the room heard the strangers: %+v", got)
		}
	})
}

func TestBadMessagesGetClearErrors(t *testing.T) {
	signaltest.ForEachHome(t, func(t *testing.T, f *signaltest.Fixture) {
		id := f.QueuedVideoExam("exam_v3")
		f.Connect("pat", f.PatientToken(id))
		before := f.Items()
		for _, body := range []string{`not json`, `{"type":"dance","exam_id":"x"}`, `{"type":"join"}`, `{"type":"offer","exam_id":"x"}`,
			`{"type":"join","exam_id":"x","extra":1}`, `{"type":"join","exam_id":"x"}{}`} {
			if err := f.H.Message(context.Background(), "pat", []byte(body)); err != nil {
				t.Fatalf("%s: %v", body, err)
			}
			if e := signaltest.Only(t, body, f.Rec.Take("pat")); e.Type != "error" || e.Code != "bad_message" || e.Message == "" {
				t.Fatalf("%s: %+v", body, e)
			}
		}
		f.Say("pat", msg{"type": "ring", "exam_id": id})
		if e := signaltest.Only(t, "patient ring", f.Rec.Take("pat")); e.Code != "providers_only" {
			t.Fatalf("a patient rang: %+v", e)
		}
		if after := f.Items(); after != before {
			t.Fatalf("bad messages wrote %d items", after-before)
		}
	})
}

func TestUnansweredRingsEndAsNotApplicable(t *testing.T) {
	signaltest.ForEachHome(t, func(t *testing.T, f *signaltest.Fixture) {
		id := f.QueuedVideoExam("exam_v4")
		f.Connect("prov", f.ProviderToken("prov_tx_md"))
		f.Connect("pat", f.PatientToken(id)) // connected, in the widget, but not in the call
		f.Say("prov", msg{"type": "ring", "exam_id": id, "action": "accept"})
		if e := f.Exam(id); e.Status != exam.Claimed {
			t.Fatalf("accepted exam is %s", e.Status)
		}
		f.Rec.Take("prov")

		f.Say("prov", msg{"type": "ring", "exam_id": id, "action": "no_answer"})
		if e := signaltest.Only(t, "provider", f.Rec.Take("prov")); e.Type != "error" || e.Code != "ring_again" {
			t.Fatalf("no_answer before any ring: %+v", e)
		}
		for attempt := 1; attempt <= 2; attempt++ {
			f.Say("prov", msg{"type": "ring", "exam_id": id})
			if r := signaltest.Only(t, "patient", f.Rec.Take("pat")); r.Type != "ring" || r.Attempt != attempt || r.From != "provider" {
				t.Fatalf("ring %d to patient: %+v", attempt, r)
			}
			if r := signaltest.Only(t, "provider", f.Rec.Take("prov")); r.Type != "ring" || r.Attempt != attempt {
				t.Fatalf("ring %d ack: %+v", attempt, r)
			}
			if attempt == 1 {
				f.Say("prov", msg{"type": "ring", "exam_id": id, "action": "no_answer"})
				if e := signaltest.Only(t, "provider", f.Rec.Take("prov")); e.Code != "ring_again" {
					t.Fatalf("no_answer after one ring: %+v", e)
				}
			}
		}
		f.Say("prov", msg{"type": "ring", "exam_id": id, "action": "no_answer"})
		got := f.Rec.Take("prov")
		if len(got) != 2 {
			t.Fatalf("no_answer: %+v", got)
		}
		if r := got[0]; r.Type != "ring" || r.Action != "no_answer" || r.Status != "decided" || r.Outcome != "not_applicable" {
			t.Fatalf("no_answer: %+v", r)
		}
		if l := got[1]; l.Type != "leave" || l.ExamID != id {
			t.Fatalf("the provider did not leave the room: %+v", l)
		}
		if l := signaltest.Only(t, "patient", f.Rec.Take("pat")); l.Type != "leave" || l.Reason != "not_applicable" {
			t.Fatalf("patient told %+v", l)
		}
		e := f.Exam(id)
		if e.Status != exam.Decided || e.Outcome != exam.NotApplicable || e.Outcome.Billable() {
			t.Fatalf("exam %s/%s billable=%v", e.Status, e.Outcome, e.Outcome.Billable())
		}
		// The room is closed now.
		f.Say("pat", msg{"type": "join", "exam_id": id})
		if e := signaltest.Only(t, "patient", f.Rec.Take("pat")); e.Code != "room_closed" {
			t.Fatalf("join after the decision: %+v", e)
		}
	})
}

func TestAnsweringResetsRings(t *testing.T) {
	signaltest.ForEachHome(t, func(t *testing.T, f *signaltest.Fixture) {
		id := f.QueuedVideoExam("exam_v5")
		f.Connect("prov", f.ProviderToken("prov_tx_md"))
		f.Connect("pat", f.PatientToken(id))
		f.Say("prov", msg{"type": "ring", "exam_id": id, "action": "accept"})
		f.Say("prov", msg{"type": "ring", "exam_id": id})
		f.Say("prov", msg{"type": "ring", "exam_id": id})
		f.Say("pat", msg{"type": "join", "exam_id": id}) // answers
		f.Say("pat", msg{"type": "leave", "exam_id": id})
		f.Rec.Take("prov")
		f.Say("prov", msg{"type": "ring", "exam_id": id, "action": "no_answer"})
		if e := signaltest.Only(t, "provider", f.Rec.Take("prov")); e.Code != "ring_again" {
			t.Fatalf("rings answered by joining still counted: %+v", e)
		}
		if e := f.Exam(id); e.Status == exam.Decided {
			t.Fatal("decided although the patient answered")
		}
	})
}

func TestGoneConnectionsAreDropped(t *testing.T) {
	signaltest.ForEachHome(t, func(t *testing.T, f *signaltest.Fixture) {
		id := f.QueuedVideoExam("exam_v6")
		f.Connect("prov", f.ProviderToken("prov_tx_md"))
		f.Connect("pat", f.PatientToken(id))
		f.Say("pat", msg{"type": "join", "exam_id": id})
		f.Say("prov", msg{"type": "ring", "exam_id": id, "action": "accept"})
		f.Rec.Take("pat")
		f.Rec.Take("prov")

		f.Rec.SetGone("pat") // the patient's socket died without a disconnect
		f.Say("prov", msg{"type": "offer", "exam_id": id, "sdp": msg{"type": "offer", "sdp": "v=0"}})
		// The provider hears that the patient left, as on a disconnect.
		if l := signaltest.Only(t, "provider", f.Rec.Take("prov")); l.Type != "leave" || l.From != "patient" || l.Reason != signal.ReasonGone || l.ExamID != id {
			t.Fatalf("provider told %+v", l)
		}
		if err := f.H.Message(context.Background(), "pat", []byte(`{"type":"leave","exam_id":"`+id+`"}`)); !errors.Is(err, signal.ErrUnknownConnection) {
			t.Fatalf("the gone connection is still known: %v", err)
		}
		// The room no longer lists it: the provider's ring reaches no one and
		// the patient is absent.
		f.Say("prov", msg{"type": "ring", "exam_id": id})
		if r := signaltest.Only(t, "provider", f.Rec.Take("prov")); r.Type != "ring" || r.Attempt != 1 {
			t.Fatalf("ring after the patient vanished: %+v", r)
		}

		// The provider's last disconnect takes them offline; repeating it is harmless.
		for range 2 {
			if err := f.H.Disconnect(context.Background(), "prov"); err != nil {
				t.Fatal(err)
			}
		}
		if on, _ := presence.Online(context.Background(), f.Store, f.Clock, "prov_tx_md"); on {
			t.Fatal("a provider with no connection is online")
		}
	})
}

func TestGoneProviderIsDroppedWhenRung(t *testing.T) {
	signaltest.ForEachHome(t, func(t *testing.T, f *signaltest.Fixture) {
		ctx := context.Background()
		id := f.QueuedVideoExam("exam_v7")
		f.Connect("prov", f.ProviderToken("prov_tx_md"))
		f.Rec.SetGone("prov") // the console's socket died without a disconnect
		before := f.Items()
		f.Connect("pat", f.PatientToken(id))
		f.Say("pat", msg{"type": "join", "exam_id": id}) // rings the provider: found gone
		if a := signaltest.Only(t, "patient", f.Rec.Take("pat")); a.Type != "join" || a.Status != "queued" {
			t.Fatalf("patient join ack %+v", a)
		}
		if on, _ := presence.Online(ctx, f.Store, f.Clock, "prov_tx_md"); on {
			t.Fatal("a provider whose only connection is gone is still online")
		}
		if err := f.H.Message(ctx, "prov", []byte(`{"type":"ring","exam_id":"`+id+`","action":"accept"}`)); !errors.Is(err, signal.ErrUnknownConnection) {
			t.Fatalf("the gone provider connection is still known: %v", err)
		}
		// The patient's connection and membership are new, the provider's
		// connection is gone (its presence record stays, offline).
		if after := f.Items(); after != before+2-1 {
			t.Fatalf("items %d → %d, want %d", before, after, before+1)
		}
	})
}

func TestSweepDropsExpiredConnections(t *testing.T) {
	signaltest.ForEachHome(t, func(t *testing.T, f *signaltest.Fixture) {
		ctx := context.Background()
		id := f.QueuedVideoExam("exam_v8")
		f.Connect("prov_old", f.ProviderToken("prov_tx_md")) // a console tab whose disconnect was lost
		f.Connect("pat", f.PatientToken(id))
		f.Say("pat", msg{"type": "join", "exam_id": id})
		f.Rec.Take("pat")
		f.Rec.Take("prov_old")
		if n, err := f.H.SweepConnections(ctx); err != nil || n != 0 {
			t.Fatalf("sweep of live connections: dropped %d, %v", n, err)
		}
		// The record carries its expiry (DynamoDB's TTL attribute "ttl" on
		// the aws home, read back by the adapter).
		live := f.H.Live
		if live == nil {
			live = f.Store
		}
		rec, err := live.Get(ctx, store.Key{PK: "WSCONN#pat", SK: "WSCONN"})
		if err != nil {
			t.Fatal(err)
		}
		if want := signaltest.Now0.Add(signal.ConnTTL); !rec.ExpiresAt.Equal(want) {
			t.Fatalf("connection record expires at %v, want %v", rec.ExpiresAt, want)
		}

		// Later the provider accepts on a new connection.
		f.Clock.Advance(signal.ConnTTL / 2)
		f.Connect("prov", f.ProviderToken("prov_tx_md"))
		f.Say("prov", msg{"type": "ring", "exam_id": id, "action": "accept"})
		f.Rec.Take("pat")
		f.Rec.Take("prov")
		baseline := f.Items()

		// The patient's socket and the old tab closed without a disconnect
		// (a $disconnect API Gateway never delivered); their records expire.
		f.Clock.Advance(signal.ConnTTL/2 + time.Second)
		f.Rec.SetGone("pat")
		f.Rec.SetGone("prov_old")
		if _, err := presence.Set(ctx, f.Store, f.Clock, "prov_tx_md", true); err != nil { // the console's heartbeat
			t.Fatal(err)
		}
		n, err := f.H.SweepConnections(ctx)
		if err != nil || n != 2 {
			t.Fatalf("sweep: dropped %d (want the patient's and the old tab's), %v", n, err)
		}
		if l := signaltest.Only(t, "provider", f.Rec.Take("prov")); l.Type != "leave" || l.From != "patient" || l.Reason != signal.ReasonExpired || l.ExamID != id {
			t.Fatalf("provider told %+v", l)
		}
		for _, c := range []string{"pat", "prov_old"} {
			if err := f.H.Message(ctx, c, []byte(`{"type":"leave","exam_id":"`+id+`"}`)); !errors.Is(err, signal.ErrUnknownConnection) {
				t.Fatalf("%s still known after the sweep: %v", c, err)
			}
		}
		if on, _ := presence.Online(ctx, f.Store, f.Clock, "prov_tx_md"); !on {
			t.Fatal("the sweep took offline a provider with a live connection")
		}
		// Two connections and the patient's membership are gone.
		if got, want := f.Items(), baseline-3; got != want {
			t.Fatalf("items after the sweep %d, want %d", got, want)
		}
		// The provider's live connection still works: the patient is absent.
		f.Say("prov", msg{"type": "ring", "exam_id": id})
		if r := signaltest.Only(t, "provider", f.Rec.Take("prov")); r.Type != "ring" || r.Attempt != 1 {
			t.Fatalf("ring from the live connection: %+v", r)
		}
		// Idempotent: nothing more to drop.
		if n, err := f.H.SweepConnections(ctx); err != nil || n != 0 {
			t.Fatalf("second sweep: dropped %d, %v", n, err)
		}
	})
}

func TestAcceptTellsTheOtherProvidersItWasTaken(t *testing.T) {
	signaltest.ForEachHome(t, func(t *testing.T, f *signaltest.Fixture) {
		id := f.QueuedVideoExam("exam_v9")
		f.Connect("md", f.ProviderToken("prov_tx_md"))
		f.Connect("np", f.ProviderToken("prov_tx_np")) // also licensed in TX
		f.Connect("pat", f.PatientToken(id))
		f.Say("pat", msg{"type": "join", "exam_id": id})
		f.Rec.Take("pat")
		for _, c := range []string{"md", "np"} {
			if r := signaltest.Only(t, c, f.Rec.Take(c)); r.Type != "ring" || r.ExamID != id || r.Action != "" {
				t.Fatalf("%s rung %+v", c, r)
			}
		}
		f.Say("md", msg{"type": "ring", "exam_id": id, "action": "accept"})
		if a := signaltest.Only(t, "accepting provider", f.Rec.Take("md")); a.Type != "join" || a.Role != "provider" {
			t.Fatalf("accepting provider got %+v, want only its join ack", a)
		}
		if r := signaltest.Only(t, "other provider", f.Rec.Take("np")); r.Type != "ring" || r.ExamID != id || r.Action != signal.ActionTaken {
			t.Fatalf("other provider told %+v, want the ring taken", r)
		}
		if e := f.Exam(id); e.Status != exam.InConsult || e.ProviderID != "prov_tx_md" {
			t.Fatalf("exam %s held by %q", e.Status, e.ProviderID)
		}
	})
}
