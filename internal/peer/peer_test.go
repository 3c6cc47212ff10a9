package peer_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v3"
	"go.uber.org/goleak"

	"github.com/goodfaith/goodfaith/internal/app/localhome"
	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/exam"
	"github.com/goodfaith/goodfaith/internal/httpapi"
	"github.com/goodfaith/goodfaith/internal/ice"
	"github.com/goodfaith/goodfaith/internal/ice/turnserver"
	"github.com/goodfaith/goodfaith/internal/peer"
	"github.com/goodfaith/goodfaith/internal/signal"
	"github.com/goodfaith/goodfaith/internal/signal/localws"
	"github.com/goodfaith/goodfaith/internal/signal/signaltest"
)

// server is the local server's routes (API and /v1/signal) on loopback.
type server struct {
	*signaltest.Fixture
	URL string
}

func (s server) signalURL() string { return "ws" + strings.TrimPrefix(s.URL, "http") + localws.Path }

func startServer(t *testing.T, iceCfg *ice.Config) server {
	t.Helper()
	f := signaltest.New(t)
	f.App.Deps.ICE = iceCfg
	ep := localhome.Signal(f.App)
	mux := http.NewServeMux()
	mux.Handle(localws.Path, ep)
	mux.Handle("/", f.App.Handler(httpapi.AllAudiences...))
	srv := httptest.NewServer(mux) // 127.0.0.1, a free port
	t.Cleanup(func() {
		ep.Close()
		srv.Close()
	})
	return server{Fixture: f, URL: srv.URL}
}

func dial(t *testing.T, ctx context.Context, s server, role, token, examID string, ice []webrtc.ICEServer, relay bool) *peer.Peer {
	t.Helper()
	p, err := peer.Dial(ctx, peer.Config{SignalURL: s.signalURL(), Token: token, ExamID: examID, Role: role, ICEServers: ice, RelayOnly: relay, LoopbackOnly: true})
	if err != nil {
		t.Fatalf("dial %s: %v", role, err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func nextEvent(t *testing.T, ctx context.Context, p *peer.Peer, typ string) signal.Out {
	t.Helper()
	for {
		select {
		case ev := <-p.Events():
			if ev.Type == typ {
				return ev
			}
		case <-ctx.Done():
			t.Fatalf("no %s event: %v", typ, ctx.Err())
		}
	}
}

// flows checks a data message each way and RTP in both directions.
func flows(t *testing.T, ctx context.Context, a, b *peer.Peer, tag string) {
	t.Helper()
	for _, pair := range [][2]*peer.Peer{{a, b}, {b, a}} {
		if err := pair[0].SendData(ctx, "hello "+tag); err != nil {
			t.Fatalf("send data: %v", err)
		}
		select {
		case got := <-pair[1].Data():
			if got != "hello "+tag {
				t.Fatalf("data %q", got)
			}
		case <-ctx.Done():
			t.Fatalf("data message not received (%s)", tag)
		}
	}
	for _, p := range []*peer.Peer{a, b} {
		start := p.RTPPackets()
		for p.RTPPackets() < start+10 {
			select {
			case <-ctx.Done():
				t.Fatalf("RTP not flowing (%s): %d packets", tag, p.RTPPackets())
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
}

// noLeaks checks, after every cleanup of the test, that no goroutine it
// started is left.
func noLeaks(t *testing.T) {
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt) })
}

func TestTwoPionPeersConsultThroughLocalSignaling(t *testing.T) {
	noLeaks(t)
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	s := startServer(t, nil)
	id := s.QueuedVideoExam("exam_p1")
	other := s.QueuedVideoExam("exam_p2")

	// A third party's token is refused at connect.
	if _, err := peer.Dial(ctx, peer.Config{SignalURL: s.signalURL(), Token: "garbage", ExamID: id, Role: peer.Patient}); !errors.Is(err, peer.ErrRefused) || !strings.Contains(err.Error(), "401") {
		t.Fatalf("garbage token: %v", err)
	}

	prov := dial(t, ctx, s, peer.Provider, s.ProviderToken("prov_tx_md"), id, nil, false)
	pat := dial(t, ctx, s, peer.Patient, s.PatientToken(id), id, nil, false)
	if err := pat.Join(ctx); err != nil {
		t.Fatal(err)
	}
	if ring := nextEvent(t, ctx, prov, signal.TypeRing); ring.ExamID != id {
		t.Fatalf("ring %+v", ring)
	}
	if err := prov.Accept(ctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*peer.Peer{prov, pat} {
		d, err := p.WaitConnected(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("time to connected: %v", d)
	}
	flows(t, ctx, prov, pat, "first")
	if e := s.Exam(id); e.Status != exam.InConsult {
		t.Fatalf("exam is %s during the call", e.Status)
	}
	if len(pat.RelayLatencies()) == 0 {
		t.Fatal("no relay latency measured")
	}

	// A third party's valid token is refused at join.
	stranger := dial(t, ctx, s, peer.Patient, s.PatientToken(other), id, nil, false)
	var se *peer.SignalError
	if err := stranger.Join(ctx); !errors.As(err, &se) || se.Code != "exam_not_found" {
		t.Fatalf("stranger join: %v", err)
	}
	np := dial(t, ctx, s, peer.Provider, s.ProviderToken("prov_tx_np"), id, nil, false)
	if err := np.Join(ctx); !errors.As(err, &se) || se.Code != "exam_not_found" {
		t.Fatalf("other provider join: %v", err)
	}

	// Leave, then reconnect on a new socket: the call comes back.
	if err := pat.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	if l := nextEvent(t, ctx, prov, signal.TypeLeave); l.From != peer.Patient {
		t.Fatalf("leave %+v", l)
	}
	pat.Close()
	pat2 := dial(t, ctx, s, peer.Patient, s.PatientToken(id), id, nil, false)
	if err := pat2.Join(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := pat2.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := prov.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	flows(t, ctx, prov, pat2, "again")
	for _, p := range []*peer.Peer{pat2, prov, stranger, np} {
		p.Close()
	}
}

func iceServers(t *testing.T, s server, token string) []webrtc.ICEServer {
	t.Helper()
	req, _ := http.NewRequest("GET", s.URL+"/v1/ice-servers", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		ICEServers []ice.Server `json:"ice_servers"`
		ExpiresAt  time.Time    `json:"expires_at"`
	}
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || json.Unmarshal(raw, &body) != nil {
		t.Fatalf("ice-servers: %d %s", resp.StatusCode, raw)
	}
	var out []webrtc.ICEServer
	for _, sv := range body.ICEServers {
		out = append(out, webrtc.ICEServer{URLs: sv.URLs, Username: sv.Username, Credential: sv.Credential})
	}
	return out
}

func TestRelayOnlyThroughLoopbackTURN(t *testing.T) {
	noLeaks(t)
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	secret := []byte("turn secret shared with the API")
	turn, err := turnserver.Start(turnserver.Config{Listen: "127.0.0.1:0", RelayIP: net.IPv4(127, 0, 0, 1), Secret: secret,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer turn.Close()
	s := startServer(t, &ice.Config{TURN: []string{turn.URL()}, Secret: secret, TTL: 10 * time.Minute, Clock: clock.System{}})
	id := s.QueuedVideoExam("exam_r1")
	patTok, provTok := s.PatientToken(id), s.ProviderToken("prov_tx_md")
	patICE, provICE := iceServers(t, s, patTok), iceServers(t, s, provTok)
	if len(patICE) != 1 || !strings.Contains(patICE[0].Username, ":patient-"+id) {
		t.Fatalf("patient ICE servers %+v", patICE)
	}

	prov := dial(t, ctx, s, peer.Provider, provTok, id, provICE, true)
	pat := dial(t, ctx, s, peer.Patient, patTok, id, patICE, true)
	if err := pat.Join(ctx); err != nil {
		t.Fatal(err)
	}
	if err := prov.Accept(ctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*peer.Peer{prov, pat} {
		if _, err := p.WaitConnected(ctx); err != nil {
			t.Fatal(err)
		}
	}
	flows(t, ctx, prov, pat, "relayed")
	for _, p := range []*peer.Peer{prov, pat} {
		if typ := p.SelectedCandidateType(); typ != "relay" {
			t.Fatalf("selected local candidate is %q, not relay", typ)
		}
	}
	if turn.Allocations() < 2 {
		t.Fatalf("TURN holds %d allocations", turn.Allocations())
	}
	prov.Close()
	pat.Close()
}

func TestExpiredTURNCredentialsNeverConnect(t *testing.T) {
	noLeaks(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	secret := []byte("turn secret shared with the API")
	turn, err := turnserver.Start(turnserver.Config{Listen: "127.0.0.1:0", RelayIP: net.IPv4(127, 0, 0, 1), Secret: secret,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer turn.Close()
	s := startServer(t, nil)
	id := s.QueuedVideoExam("exam_r2")
	user, pass := ice.Credential(secret, "patient-"+id, time.Now().Add(-time.Minute))
	expired := []webrtc.ICEServer{{URLs: []string{turn.URL()}, Username: user, Credential: pass}}

	prov := dial(t, ctx, s, peer.Provider, s.ProviderToken("prov_tx_md"), id, expired, true)
	pat := dial(t, ctx, s, peer.Patient, s.PatientToken(id), id, expired, true)
	if err := pat.Join(ctx); err != nil {
		t.Fatal(err)
	}
	if err := prov.Accept(ctx); err != nil {
		t.Fatal(err)
	}
	wait, cancelWait := context.WithTimeout(ctx, 4*time.Second)
	defer cancelWait()
	if _, err := pat.WaitConnected(wait); err == nil {
		t.Fatal("connected through TURN with expired credentials")
	}
	if turn.Refused() == 0 || turn.Allocations() != 0 {
		t.Fatalf("TURN refused %d requests and holds %d allocations", turn.Refused(), turn.Allocations())
	}
	prov.Close()
	pat.Close()
}
