package webhook_test

import (
	"context"
	"errors"
	"net/netip"
	"testing"

	"github.com/goodfaith/goodfaith/internal/exam"
	"github.com/goodfaith/goodfaith/internal/fault"
	"github.com/goodfaith/goodfaith/internal/store"
	"github.com/goodfaith/goodfaith/internal/webhook"
)

// fixedResolver answers every lookup with addrs.
type fixedResolver map[string][]netip.Addr

func (f fixedResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := f[host]; ok {
		return a, nil
	}
	return nil, errors.New("no such host")
}

func TestEndpointURLMustBeHTTPSToAPublicAddress(t *testing.T) {
	r := newRig(t)
	res := fixedResolver{
		"hooks.example.com": {netip.MustParseAddr("93.184.215.14")},
		"inside.example":    {netip.MustParseAddr("93.184.215.14"), netip.MustParseAddr("10.0.0.7")},
	}
	prod := webhook.Endpoints{Store: r.st, Clock: r.clk, Resolver: res}
	dev := webhook.Endpoints{Store: r.st, Clock: r.clk, Resolver: res, AllowLoopback: true}
	cases := []struct {
		url       string
		prod, dev string // "" accepted, else the error code
	}{
		{"https://hooks.example.com/goodfaith", "", ""},
		{"https://93.184.215.14:8443/x", "", ""},
		{"http://hooks.example.com/goodfaith", "url_not_https", "url_not_https"},
		{"http://127.0.0.1:9000/hook", "url_not_https", ""},
		{"https://localhost/hook", "url_unresolvable", ""},
		{"http://[::1]:9000/hook", "url_not_https", ""},
		{"https://10.1.2.3/hook", "url_not_public", "url_not_public"},
		{"https://169.254.169.254/latest", "url_not_public", "url_not_public"},
		{"https://100.64.0.1/", "url_not_public", "url_not_public"},
		{"https://[fd00::1]/", "url_not_public", "url_not_public"},
		{"https://inside.example/", "url_not_public", "url_not_public"},
		{"https://nowhere.invalid/", "url_unresolvable", "url_unresolvable"},
		{"https://user:pw@hooks.example.com/", "invalid_url", "invalid_url"},
		{"https://hooks.example.com/#frag", "invalid_url", "invalid_url"},
		{"hooks.example.com/x", "invalid_url", "invalid_url"},
		{"ftp://hooks.example.com/", "url_not_https", "url_not_https"},
		{"", "url_required", "url_required"},
	}
	for _, c := range cases {
		for _, mode := range []struct {
			name string
			e    webhook.Endpoints
			want string
		}{{"prod", prod, c.prod}, {"dev", dev, c.dev}} {
			_, err := mode.e.CheckURL(context.Background(), c.url)
			var fe *fault.Error
			switch {
			case mode.want == "" && err != nil:
				t.Errorf("%s %q refused: %v", mode.name, c.url, err)
			case mode.want != "" && (!errors.As(err, &fe) || fe.Code != mode.want || fe.Field != "url"):
				t.Errorf("%s %q: %v, want %s", mode.name, c.url, err, mode.want)
			}
		}
	}
}

func TestEndpointSecretIsKeptUnlessRotated(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	a, err := r.endpoints.Set(ctx, "clinic_a", "http://127.0.0.1:1/a", false)
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.endpoints.Set(ctx, "clinic_a", "http://127.0.0.1:1/b", false)
	if err != nil || b.Secret != a.Secret || b.URL != "http://127.0.0.1:1/b" {
		t.Fatalf("second Set = %+v, %v", b, err)
	}
	c, err := r.endpoints.Set(ctx, "clinic_a", "http://127.0.0.1:1/b", true)
	if err != nil || c.Secret == a.Secret || len(c.Secret) < 40 {
		t.Fatalf("rotated = %+v, %v", c, err)
	}
	if _, err := r.endpoints.Get(ctx, "clinic_b"); !errors.Is(err, webhook.ErrNoEndpoint) {
		t.Fatalf("another clinic's endpoint: %v", err)
	}
}

func TestEventsOfAnExamsLife(t *testing.T) {
	mk := func(st exam.Status) exam.Exam {
		return exam.Exam{ID: "exam_1", ClinicID: "clinic_a", Status: st, State: "TX", Treatments: []string{"neurotoxin"}, Modality: "async"}
	}
	draft := mk(exam.Draft)
	queued := mk(exam.Queued)
	sub := queued
	at := draft.CreatedAt
	sub.SubmittedAt = &at
	decided := sub
	decided.Status, decided.Outcome = exam.Decided, exam.Approved
	decided.PSO = &exam.PSORef{ID: "pso_1", ValidUntil: "2025-09-01"}
	na := sub
	na.Status, na.Outcome = exam.Decided, exam.NotApplicable
	cancelled := mk(exam.Cancelled)
	types := func(es []webhook.Event) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.Type)
		}
		return out
	}
	cases := []struct {
		name string
		old  *exam.Exam
		new  exam.Exam
		want []string
	}{
		{"created", nil, draft, nil},
		{"submitted", &draft, sub, []string{webhook.ExamSubmitted}},
		{"approved with PSO", &sub, decided, []string{webhook.ExamDecided, webhook.PSOSigned}},
		{"not applicable", &sub, na, []string{webhook.ExamDecided}},
		{"cancelled draft", &draft, cancelled, nil},
		{"rewrite of a decided exam", &decided, decided, nil},
	}
	for _, c := range cases {
		got := types(webhook.EventsFor(c.old, c.new))
		if len(got) != len(c.want) {
			t.Errorf("%s: events %v, want %v", c.name, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s: events %v, want %v", c.name, got, c.want)
			}
		}
	}
	// The same change makes the same events, ids included.
	a, b := webhook.EventsFor(&sub, decided), webhook.EventsFor(&sub, decided)
	if a[0].ID != b[0].ID || string(a[0].Data) != string(b[0].Data) || a[0].ID == a[1].ID {
		t.Fatal("event ids are not stable per exam and type")
	}
}

func TestEventsSkipClinicsWithoutAnEndpoint(t *testing.T) {
	r := newRig(t)
	r.decide(t, "exam_1", "clinic_none", exam.Approved)
	items, err := r.st.(store.Scanner).Scan(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if len(it.PK) > 10 && it.PK[:10] == "WHDELIVERY" {
			t.Fatalf("queued %s for a clinic without webhooks", it.PK)
		}
	}
}
