package e2e

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/goodfaith/goodfaith/internal/billing"
	"github.com/goodfaith/goodfaith/internal/notify"
	"github.com/goodfaith/goodfaith/internal/webhook"
)

// hookReceiver is a clinic's webhook receiver on loopback.
type hookReceiver struct {
	*httptest.Server
	mu     sync.Mutex
	events []hookEvent
}

type hookEvent struct {
	sig  string
	body []byte
	at   time.Time
	typ  string
	exam string
}

func newHookReceiver(t *testing.T, delay time.Duration) *hookReceiver {
	h := &hookReceiver{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var ev struct {
			Type string `json:"type"`
			Data struct {
				Exam struct{ ID string } `json:"exam"`
				PSO  struct {
					ExamID string `json:"exam_id"`
				} `json:"pso"`
			} `json:"data"`
		}
		_ = json.Unmarshal(body, &ev)
		examID := ev.Data.Exam.ID + ev.Data.PSO.ExamID
		h.mu.Lock()
		h.events = append(h.events, hookEvent{sig: r.Header.Get(webhook.SignatureHeader), body: body, at: time.Now(), typ: ev.Type, exam: examID})
		h.mu.Unlock()
		time.Sleep(delay)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hookReceiver) of(examID string) map[string]hookEvent {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[string]hookEvent{}
	for _, e := range h.events {
		if e.exam == examID {
			out[e.typ] = e
		}
	}
	return out
}

// decide takes a queued exam to a decision by prov_tx_md.
func (e *env) decide(id string, body map[string]any, want int) {
	e.t.Helper()
	md := bearer(e.providerToken("prov_tx_md"))
	e.must(200, e.do("POST", "/v1/provider/exams/"+id+"/claim", md, nil))
	e.must(want, e.do("POST", "/v1/provider/exams/"+id+"/decision", md, body))
}

func TestWebhooksBillingAndInvitesOverHTTP(t *testing.T) {
	forEachHome(t, func(t *testing.T, open func(testing.TB, bool) *env) {
		e := open(t, true)
		clinicA, clinicB := bearer(skA), bearer(skB)
		// A slow receiver: the API must not wait for it.
		rc := newHookReceiver(t, 1500*time.Millisecond)

		// Bad URLs are refused and change nothing.
		before := e.snapshot()
		for _, u := range []string{"ftp://x.example", "https://10.0.0.1/hook", "not a url"} {
			r := e.must(422, e.do("PUT", "/v1/clinic/webhook", clinicA, map[string]string{"url": u}))
			if r.errorField(t) != "url" {
				t.Fatalf("%q: %s", u, r.Body)
			}
		}
		e.assertUnchanged(before, "refused webhook URLs")
		hook := e.must(200, e.do("PUT", "/v1/clinic/webhook", clinicA, map[string]string{"url": rc.URL + "/goodfaith"})).json(t)
		secret, _ := hook["secret"].(string)
		if hook["url"] != rc.URL+"/goodfaith" || len(secret) < 40 {
			t.Fatalf("PUT webhook = %v", hook)
		}

		approvedID, _ := e.queued()
		began := time.Now()
		e.decide(approvedID, approval, 201)
		if took := time.Since(began); took > 1500*time.Millisecond {
			t.Fatalf("claim and decision took %s: the API waited for the webhook receiver", took)
		}
		deferredID, _ := e.queued()
		e.decide(deferredID, map[string]any{"outcome": "deferred", "reason": "needs a dermatology consult first"}, 200)
		naID, _ := e.queued()
		e.decide(naID, map[string]any{"outcome": "not_applicable", "notes": "patient did not respond"}, 200)

		// Every event arrives, signed with the secret as returned.
		eventually(t, "webhooks", func() bool {
			return len(rc.of(approvedID)) == 3 && len(rc.of(deferredID)) == 2 && len(rc.of(naID)) == 2
		})
		for _, id := range []string{approvedID, deferredID, naID} {
			for typ, ev := range rc.of(id) {
				if err := webhook.Verify(secret, ev.sig, ev.body, ev.at); err != nil {
					t.Fatalf("%s of %s: %v", typ, id, err)
				}
			}
		}
		if !bytes.Contains(rc.of(deferredID)["exam.decided"].body, []byte(`"reason":"needs a dermatology consult first"`)) {
			t.Fatalf("deferral event lacks the reason: %s", rc.of(deferredID)["exam.decided"].body)
		}
		if !bytes.Contains(rc.of(naID)["exam.decided"].body, []byte(`"outcome":"not_applicable"`)) {
			t.Fatal("not_applicable decision event missing its outcome")
		}

		// Usage: the approved and deferred exams, not the not_applicable one.
		month := billing.MonthOf(time.Now(), billing.Location("America/Chicago")).String()
		var usage map[string]any
		eventually(t, "metering", func() bool {
			usage = e.must(200, e.do("GET", "/v1/clinic/usage?month="+month, clinicA, nil)).json(t)
			return usage["count"].(float64) >= 2
		})
		if usage["count"].(float64) != 2 || usage["amount_cents"].(float64) != 2*2799 || usage["currency"] != "USD" || usage["month"] != month {
			t.Fatalf("usage = %v", usage)
		}
		billed := map[string]bool{}
		for _, it := range usage["items"].([]any) {
			m := it.(map[string]any)
			billed[m["exam_id"].(string)] = true
			if m["amount_cents"].(float64) != 2799 || m["decided_at"] == nil || m["outcome"] == nil {
				t.Fatalf("usage item = %v", m)
			}
		}
		if !billed[approvedID] || !billed[deferredID] || billed[naID] {
			t.Fatalf("billed %v", billed)
		}
		// The statement reconciles with the usage to the cent.
		st := e.must(200, e.do("GET", "/v1/clinic/statements/"+month+".csv", clinicA, nil))
		if ct := st.Header.Get("Content-Type"); ct[:8] != "text/csv" {
			t.Fatalf("content type %q", ct)
		}
		rows, err := csv.NewReader(bytes.NewReader(st.Body)).ReadAll()
		if err != nil || len(rows) != 4 {
			t.Fatalf("statement: %v\n%s", err, st.Body)
		}
		last := rows[3]
		if last[0] != "total" || last[len(last)-1] != strconv.Itoa(2*2799) || !billed[rows[1][0]] || !billed[rows[2][0]] {
			t.Fatalf("statement rows = %q", rows)
		}
		// Another clinic sees none of it.
		if b := e.must(200, e.do("GET", "/v1/clinic/usage?month="+month, clinicB, nil)).json(t); b["count"].(float64) != 0 {
			t.Fatalf("clinic B usage = %v", b)
		}
		e.must(422, e.do("GET", "/v1/clinic/usage?month=2025-13", clinicA, nil))
		e.must(404, e.do("GET", "/v1/clinic/statements/latest.csv", clinicA, nil))
		e.must(401, e.do("GET", "/v1/clinic/usage", nil, nil))
		if d := e.must(200, e.do("GET", "/v1/clinic/webhook/deliveries?status=dead", clinicA, nil)).json(t); len(d["items"].([]any)) != 0 {
			t.Fatalf("dead letters = %v", d)
		}

		// Invites: a draft for the patient, a link, and the email sent.
		inv := e.must(201, e.do("POST", "/v1/clinic/invites", clinicA, map[string]any{
			"patient":    map[string]any{"first_name": "Ana", "last_name": "Ruiz", "dob": "1988-02-03", "email": "ana@example.com", "state": "TX"},
			"treatments": []string{"neurotoxin"},
		})).json(t)
		invExam, _ := inv["exam_id"].(string)
		if invExam == "" || inv["url"] == nil {
			t.Fatalf("invite = %v", inv)
		}
		if ex := e.must(200, e.do("GET", "/v1/clinic/exams/"+invExam, clinicA, nil)).json(t)["exam"].(map[string]any); ex["status"] != "draft" {
			t.Fatalf("invited exam = %v", ex)
		}
		notes := inv["notifications"].([]any)
		if len(notes) != 1 || notes[0].(map[string]any)["status"] != "sent" {
			t.Fatalf("invite notifications = %v", notes)
		}
		msgs, err := notify.Outbox{Store: e.Store}.List(context.Background(), 100)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, m := range msgs {
			found = found || m.To == "ana@example.com" && m.Channel == "email" && bytes.Contains([]byte(m.Body), []byte(invExam))
		}
		if !found {
			t.Fatal("the patient's invite email is not in the outbox")
		}
		e.must(404, e.do("GET", "/v1/clinic/invites/"+invExam, clinicB, nil))
		e.must(422, e.do("POST", "/v1/clinic/invites", clinicA, map[string]any{"patient": map[string]any{"state": "TX"}, "treatments": []string{"neurotoxin"}}))
	})
}
