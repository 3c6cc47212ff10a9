package signal_test

import (
	"context"
	"testing"

	"github.com/goodfaith/goodfaith/internal/exam"
	"github.com/goodfaith/goodfaith/internal/signal/signaltest"
	"github.com/goodfaith/goodfaith/internal/store"
)

// A waiting patient's join ack carries their place among the state's
// queued video exams; joining again on the same connection refreshes it
// without ringing the providers again.
func TestPatientJoinAckCarriesQueuePosition(t *testing.T) {
	signaltest.ForEachHome(t, func(t *testing.T, f *signaltest.Fixture) {
		f.QueuedVideoExam("exam_v1")
		async := f.QueuedVideoExam("exam_a0") // sorts first, but an online review does not wait for a call
		e := f.Exam(async)
		e.Modality = "async"
		if err := f.Store.Put(context.Background(), exam.ToItem(e, 2), store.None); err != nil {
			t.Fatal(err)
		}
		f.QueuedVideoExam("exam_v2")
		id := f.QueuedVideoExam("exam_v3")
		f.Connect("prov", f.ProviderToken("prov_tx_md"))

		f.Connect("pat", f.PatientToken(id))
		f.Say("pat", msg{"type": "join", "exam_id": id})
		if a := signaltest.Only(t, "patient", f.Rec.Take("pat")); a.Type != "join" || a.Position != 3 {
			t.Fatalf("join ack %+v, want position 3", a)
		}
		if r := signaltest.Only(t, "provider", f.Rec.Take("prov")); r.Type != "ring" || r.ExamID != id {
			t.Fatalf("provider got %+v, want a ring", r)
		}

		f.Say("pat", msg{"type": "join", "exam_id": id})
		if a := signaltest.Only(t, "patient", f.Rec.Take("pat")); a.Type != "join" || a.Position != 3 {
			t.Fatalf("refresh ack %+v, want position 3", a)
		}
		if got := f.Rec.Take("prov"); len(got) != 0 {
			t.Fatalf("a refresh rang or told the provider again: %+v", got)
		}

		// The exam ahead is taken: the patient moves up.
		f.Say("prov", msg{"type": "ring", "exam_id": "exam_v1", "action": "accept"})
		f.Rec.Take("prov")
		f.Say("pat", msg{"type": "join", "exam_id": id})
		if a := signaltest.Only(t, "patient", f.Rec.Take("pat")); a.Position != 2 {
			t.Fatalf("after the first exam was taken: %+v, want position 2", a)
		}

		// Only the patient's own, queued video exam has a position.
		f.Say("prov", msg{"type": "leave", "exam_id": "exam_v1"})
		f.Rec.Take("prov")
		f.Say("prov", msg{"type": "ring", "exam_id": id, "action": "accept"})
		if e := f.Exam(id); e.Status != exam.InConsult {
			t.Fatalf("after accept: %s", e.Status)
		}
		f.Rec.Take("prov")
		f.Rec.Take("pat")
		f.Say("pat", msg{"type": "join", "exam_id": id})
		if a := signaltest.Only(t, "patient", f.Rec.Take("pat")); a.Position != 0 || a.Status != "in_consult" {
			t.Fatalf("in consult: %+v, want no position", a)
		}
	})
}

// A patient who reconnects after a network blip replaces the old
// connection; when the old one's disconnect arrives late, the provider is
// not told the patient left (which would end the new call).
func TestLateDisconnectOfAReplacedConnectionIsSilent(t *testing.T) {
	signaltest.ForEachHome(t, func(t *testing.T, f *signaltest.Fixture) {
		id := f.QueuedVideoExam("exam_v1")
		f.Connect("prov", f.ProviderToken("prov_tx_md"))
		f.Connect("pat", f.PatientToken(id))
		f.Say("pat", msg{"type": "join", "exam_id": id})
		f.Say("prov", msg{"type": "ring", "exam_id": id, "action": "accept"})
		f.Rec.Take("pat")
		f.Rec.Take("prov")

		f.Connect("pat2", f.PatientToken(id))
		f.Say("pat2", msg{"type": "join", "exam_id": id})
		if n := signaltest.Only(t, "provider", f.Rec.Take("prov")); n.Type != "join" || n.From != "patient" {
			t.Fatalf("provider told of the rejoin: %+v", n)
		}
		if l := signaltest.Only(t, "old connection", f.Rec.Take("pat")); l.Type != "leave" || l.Reason != "replaced" {
			t.Fatalf("old connection told %+v", l)
		}
		if err := f.H.Disconnect(context.Background(), "pat"); err != nil {
			t.Fatal(err)
		}
		if got := f.Rec.Take("prov"); len(got) != 0 {
			t.Fatalf("the replaced connection's disconnect reached the provider: %+v", got)
		}
		// The current connection's disconnect still does.
		if err := f.H.Disconnect(context.Background(), "pat2"); err != nil {
			t.Fatal(err)
		}
		if l := signaltest.Only(t, "provider", f.Rec.Take("prov")); l.Type != "leave" || l.From != "patient" {
			t.Fatalf("provider told %+v", l)
		}
	})
}
