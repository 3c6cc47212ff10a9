package peer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/pion/ice/v2"
	"github.com/pion/webrtc/v3"
	"github.com/pion/webrtc/v3/pkg/media"

	"github.com/goodfaith/goodfaith/internal/signal"
)

// Roles a peer joins as.
const (
	Patient  = "patient"
	Provider = "provider"
)

// ErrRefused is returned by Dial when the server refuses the socket (for
// example 401 for a bad token); the error text carries the status.
var ErrRefused = errors.New("peer: signaling refused the connection")

// ErrClosed is returned by calls on a closed peer.
var ErrClosed = errors.New("peer: closed")

// SignalError is an error message the server sent in answer to ours.
type SignalError struct {
	Code, Message string
}

func (e *SignalError) Error() string { return "peer: signaling error " + e.Code + ": " + e.Message }

// Config says how a peer connects.
type Config struct {
	// SignalURL is the ws:// or wss:// URL of /v1/signal (without token).
	SignalURL string
	Token     string
	ExamID    string
	Role      string // Patient or Provider
	// ICEServers come from GET /v1/ice-servers.
	ICEServers []webrtc.ICEServer
	// RelayOnly forces relayed candidates (iceTransportPolicy: relay).
	RelayOnly bool
	// LoopbackOnly gathers candidates on the loopback interface only
	// (tests and the load command on one machine).
	LoopbackOnly bool
	// Video sends a synthetic VP8 track (default true via NewConfig users).
	NoVideo bool
}

// Peer is one side of a consult.
type Peer struct {
	cfg     Config
	ws      *websocket.Conn
	api     *webrtc.API
	started time.Time

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu        sync.Mutex
	pc        *webrtc.PeerConnection
	dc        *webrtc.DataChannel
	pending   []webrtc.ICECandidateInit
	remoteSet bool
	// Local candidates wait until this generation's offer or answer has
	// gone out: gathering starts inside SetLocalDescription, and a
	// candidate sent before its description reaches a peer that has no
	// connection for it yet, which drops it (with relay-only ICE, the only
	// candidate).
	localPending []webrtc.ICECandidateInit
	sdpSent      bool
	connectedAt  time.Time
	connected    chan struct{}
	dcOpen       chan struct{}
	latencies    []time.Duration
	replies      chan signal.Out
	events       chan signal.Out
	peerPresent  bool
	generation   int

	rtp  atomic.Int64
	data chan string
}

// Dial opens the signaling socket; the clock of TimeToConnected starts here.
func Dial(ctx context.Context, cfg Config) (*Peer, error) {
	if cfg.Role != Patient && cfg.Role != Provider {
		return nil, fmt.Errorf("peer: role must be %q or %q", Patient, Provider)
	}
	started := time.Now()
	u, err := url.Parse(cfg.SignalURL)
	if err != nil {
		return nil, err
	}
	q := u.Query()
	q.Set("token", cfg.Token)
	u.RawQuery = q.Encode()
	ws, resp, err := websocket.Dial(ctx, u.String(), nil)
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			return nil, fmt.Errorf("%w: %s", ErrRefused, resp.Status)
		}
		return nil, err
	}
	ws.SetReadLimit(signal.MaxMessageBytes * 4)
	se := webrtc.SettingEngine{}
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	if cfg.LoopbackOnly {
		se.SetIncludeLoopbackCandidate(true)
		se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	}
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		ws.CloseNow()
		return nil, err
	}
	pctx, cancel := context.WithCancel(context.Background())
	p := &Peer{
		cfg: cfg, ws: ws, api: webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(m)), started: started,
		ctx: pctx, cancel: cancel, connected: make(chan struct{}), dcOpen: make(chan struct{}),
		replies: make(chan signal.Out, 16), events: make(chan signal.Out, 64), data: make(chan string, 64),
	}
	p.wg.Add(1)
	go p.readLoop()
	return p, nil
}

// Join enters the exam's room and waits for the server's answer.
func (p *Peer) Join(ctx context.Context) error {
	return p.request(ctx, signal.In{Type: signal.TypeJoin, ExamID: p.cfg.ExamID}, signal.TypeJoin)
}

// Accept answers a ring: the provider claims the exam and joins its room.
func (p *Peer) Accept(ctx context.Context) error {
	return p.request(ctx, signal.In{Type: signal.TypeRing, ExamID: p.cfg.ExamID, Action: signal.ActionAccept}, signal.TypeJoin)
}

// Leave leaves the room and closes the peer connection (the socket stays).
func (p *Peer) Leave(ctx context.Context) error {
	err := p.request(ctx, signal.In{Type: signal.TypeLeave, ExamID: p.cfg.ExamID}, signal.TypeLeave)
	p.resetPC()
	return err
}

// request sends in and waits for a reply of type want or an error.
func (p *Peer) request(ctx context.Context, in signal.In, want string) error {
	if err := p.send(ctx, in); err != nil {
		return err
	}
	for {
		select {
		case out := <-p.replies:
			if out.Type == signal.TypeError {
				return &SignalError{Code: out.Code, Message: out.Message}
			}
			if out.Type == want {
				return nil
			}
		case <-ctx.Done():
			return ctx.Err()
		case <-p.ctx.Done():
			return ErrClosed
		}
	}
}

// Events delivers server messages that are not replies (rings, peers
// joining and leaving).
func (p *Peer) Events() <-chan signal.Out { return p.events }

// Send sends a raw signaling message.
func (p *Peer) Send(ctx context.Context, in signal.In) error { return p.send(ctx, in) }

func (p *Peer) send(ctx context.Context, in signal.In) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return p.ws.Write(ctx, websocket.MessageText, b)
}

func (p *Peer) readLoop() {
	defer p.wg.Done()
	defer p.cancel()
	for {
		_, b, err := p.ws.Read(p.ctx)
		if err != nil {
			return
		}
		var out signal.Out
		if json.Unmarshal(b, &out) != nil {
			continue
		}
		p.handle(out)
	}
}

func (p *Peer) handle(out signal.Out) {
	switch {
	case out.Type == signal.TypeJoin && out.Role != "": // our join ack
		present := false
		for _, r := range out.Peers {
			present = present || r != p.cfg.Role
		}
		p.mu.Lock()
		p.peerPresent = present
		p.mu.Unlock()
		p.reply(out)
		if present && p.cfg.Role == Provider {
			p.negotiate()
		}
	case out.Type == signal.TypeJoin: // the other party joined
		p.mu.Lock()
		p.peerPresent = true
		p.mu.Unlock()
		p.event(out)
		if p.cfg.Role == Provider {
			p.negotiate()
		}
	case out.Type == signal.TypeLeave && out.Role != "": // our leave ack
		p.reply(out)
	case out.Type == signal.TypeLeave:
		p.mu.Lock()
		p.peerPresent = false
		p.mu.Unlock()
		p.resetPC()
		p.event(out)
	case out.Type == signal.TypeOffer:
		p.noteLatency(out.SentAt)
		p.answer(out.SDP)
	case out.Type == signal.TypeAnswer:
		p.noteLatency(out.SentAt)
		p.setAnswer(out.SDP)
	case out.Type == signal.TypeCandidate:
		p.noteLatency(out.SentAt)
		p.addCandidate(out.Candidate)
	case out.Type == signal.TypeError:
		p.reply(out)
	case out.Type == signal.TypeRing && out.Action == "" && out.Role == "" && out.From == "":
		p.event(out) // a provider is rung for a waiting patient
	case out.Type == signal.TypeRing:
		p.event(out)
	}
}

func (p *Peer) reply(out signal.Out) {
	select {
	case p.replies <- out:
	default:
	}
}

func (p *Peer) event(out signal.Out) {
	select {
	case p.events <- out:
	default:
	}
}

func (p *Peer) noteLatency(sentAt int64) {
	if sentAt <= 0 {
		return
	}
	d := time.Since(time.Unix(0, sentAt))
	p.mu.Lock()
	p.latencies = append(p.latencies, d)
	p.mu.Unlock()
}

// RelayLatencies are the delays of the offers, answers and candidates this
// peer received, from the sender's send to this peer's read (meaningful
// when both peers share a clock, as in one process).
func (p *Peer) RelayLatencies() []time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]time.Duration(nil), p.latencies...)
}

// newPC replaces the peer connection with a fresh one carrying the
// synthetic track and, for the provider, the data channel.
func (p *Peer) newPC() (*webrtc.PeerConnection, int, error) {
	conf := webrtc.Configuration{ICEServers: p.cfg.ICEServers}
	if p.cfg.RelayOnly {
		conf.ICETransportPolicy = webrtc.ICETransportPolicyRelay
	}
	pc, err := p.api.NewPeerConnection(conf)
	if err != nil {
		return nil, 0, err
	}
	p.mu.Lock()
	old := p.pc
	p.generation++
	gen := p.generation
	p.pc, p.dc, p.pending, p.remoteSet = pc, nil, nil, false
	p.localPending, p.sdpSent = nil, false
	p.mu.Unlock()
	if old != nil {
		_ = old.Close()
	}
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c == nil {
			return
		}
		p.mu.Lock()
		if gen != p.generation {
			p.mu.Unlock()
			return // a replaced connection's candidate
		}
		if !p.sdpSent {
			p.localPending = append(p.localPending, c.ToJSON())
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
		p.sendCandidate(c.ToJSON())
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s != webrtc.PeerConnectionStateConnected {
			return
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.connectedAt.IsZero() {
			p.connectedAt = time.Now()
			close(p.connected)
		}
	})
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		for {
			if _, _, err := tr.ReadRTP(); err != nil {
				return
			}
			p.rtp.Add(1)
		}
	})
	pc.OnDataChannel(func(dc *webrtc.DataChannel) { p.useDC(dc) })
	if !p.cfg.NoVideo {
		track, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "video", "goodfaith-"+p.cfg.Role)
		if err != nil {
			return nil, 0, err
		}
		if _, err := pc.AddTrack(track); err != nil {
			return nil, 0, err
		}
		p.wg.Add(1)
		go p.pump(pc, track)
	}
	return pc, gen, nil
}

// pump writes synthetic VP8 frames at 30 per second while pc lives.
func (p *Peer) pump(pc *webrtc.PeerConnection, track *webrtc.TrackLocalStaticSample) {
	defer p.wg.Done()
	frame := make([]byte, 1200)
	for i := range frame {
		frame[i] = byte(i)
	}
	frame[0] = 0x10 // a VP8 payload descriptor's start-of-partition bit, for readers that look
	t := time.NewTicker(33 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-t.C:
			if pc.ConnectionState() == webrtc.PeerConnectionStateClosed {
				return
			}
			_ = track.WriteSample(media.Sample{Data: frame, Duration: 33 * time.Millisecond})
		}
	}
}

func (p *Peer) useDC(dc *webrtc.DataChannel) {
	dc.OnOpen(func() {
		p.mu.Lock()
		p.dc = dc
		select {
		case <-p.dcOpen:
		default:
			close(p.dcOpen)
		}
		p.mu.Unlock()
	})
	dc.OnMessage(func(m webrtc.DataChannelMessage) {
		select {
		case p.data <- string(m.Data):
		default:
		}
	})
}

func (p *Peer) sendCandidate(c webrtc.ICECandidateInit) {
	b, _ := json.Marshal(c)
	_ = p.send(p.ctx, signal.In{Type: signal.TypeCandidate, ExamID: p.cfg.ExamID, Candidate: b, SentAt: time.Now().UnixNano()})
}

// sdpDelivered releases the local candidates held back until generation
// gen's offer or answer went out.
func (p *Peer) sdpDelivered(gen int) {
	p.mu.Lock()
	if gen != p.generation {
		p.mu.Unlock()
		return
	}
	held := p.localPending
	p.localPending, p.sdpSent = nil, true
	p.mu.Unlock()
	for _, c := range held {
		p.sendCandidate(c)
	}
}

func (p *Peer) negotiate() {
	pc, gen, err := p.newPC()
	if err != nil {
		return
	}
	dc, err := pc.CreateDataChannel("consult", nil)
	if err != nil {
		return
	}
	p.useDC(dc)
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return
	}
	if err := pc.SetLocalDescription(offer); err != nil {
		return
	}
	b, _ := json.Marshal(offer)
	_ = p.send(p.ctx, signal.In{Type: signal.TypeOffer, ExamID: p.cfg.ExamID, SDP: b, SentAt: time.Now().UnixNano()})
	p.sdpDelivered(gen)
}

func (p *Peer) answer(raw json.RawMessage) {
	var offer webrtc.SessionDescription
	if json.Unmarshal(raw, &offer) != nil {
		return
	}
	pc, gen, err := p.newPC()
	if err != nil {
		return
	}
	if err := pc.SetRemoteDescription(offer); err != nil {
		return
	}
	p.flushCandidates(pc)
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		return
	}
	if err := pc.SetLocalDescription(ans); err != nil {
		return
	}
	b, _ := json.Marshal(ans)
	_ = p.send(p.ctx, signal.In{Type: signal.TypeAnswer, ExamID: p.cfg.ExamID, SDP: b, SentAt: time.Now().UnixNano()})
	p.sdpDelivered(gen)
}

func (p *Peer) setAnswer(raw json.RawMessage) {
	var ans webrtc.SessionDescription
	if json.Unmarshal(raw, &ans) != nil {
		return
	}
	p.mu.Lock()
	pc := p.pc
	p.mu.Unlock()
	if pc == nil || pc.SetRemoteDescription(ans) != nil {
		return
	}
	p.flushCandidates(pc)
}

func (p *Peer) flushCandidates(pc *webrtc.PeerConnection) {
	p.mu.Lock()
	if p.pc != pc {
		p.mu.Unlock()
		return
	}
	pending := p.pending
	p.pending, p.remoteSet = nil, true
	p.mu.Unlock()
	for _, c := range pending {
		_ = pc.AddICECandidate(c)
	}
}

func (p *Peer) addCandidate(raw json.RawMessage) {
	var c webrtc.ICECandidateInit
	if json.Unmarshal(raw, &c) != nil {
		return
	}
	p.mu.Lock()
	pc, ready := p.pc, p.remoteSet
	if !ready {
		p.pending = append(p.pending, c)
	}
	p.mu.Unlock()
	if ready && pc != nil {
		_ = pc.AddICECandidate(c)
	}
}

// resetPC closes the peer connection and rearms the connected and data
// channel signals, for a reconnect.
func (p *Peer) resetPC() {
	p.mu.Lock()
	pc := p.pc
	p.pc, p.dc, p.pending, p.remoteSet = nil, nil, nil, false
	if !p.connectedAt.IsZero() {
		p.connectedAt = time.Time{}
		p.connected = make(chan struct{})
	}
	select {
	case <-p.dcOpen:
		p.dcOpen = make(chan struct{})
	default:
	}
	p.started = time.Now()
	p.mu.Unlock()
	if pc != nil {
		_ = pc.Close()
	}
}

// WaitConnected waits for the peer connection to connect and returns the
// time since Dial (or since the last reset, after a leave).
func (p *Peer) WaitConnected(ctx context.Context) (time.Duration, error) {
	p.mu.Lock()
	ch := p.connected
	p.mu.Unlock()
	select {
	case <-ch:
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.connectedAt.Sub(p.started), nil
	case <-ctx.Done():
		return 0, fmt.Errorf("peer: not connected: %w", ctx.Err())
	case <-p.ctx.Done():
		return 0, ErrClosed
	}
}

// SendData sends msg on the data channel once it is open.
func (p *Peer) SendData(ctx context.Context, msg string) error {
	p.mu.Lock()
	ch := p.dcOpen
	p.mu.Unlock()
	select {
	case <-ch:
	case <-ctx.Done():
		return fmt.Errorf("peer: data channel not open: %w", ctx.Err())
	}
	p.mu.Lock()
	dc := p.dc
	p.mu.Unlock()
	if dc == nil {
		return ErrClosed
	}
	return dc.SendText(msg)
}

// Data delivers the data-channel messages received.
func (p *Peer) Data() <-chan string { return p.data }

// RTPPackets counts the RTP packets received on remote tracks.
func (p *Peer) RTPPackets() int64 { return p.rtp.Load() }

// SelectedCandidateType is the local candidate type of the connected pair
// ("host", "srflx", "relay"), or "" before connecting.
func (p *Peer) SelectedCandidateType() string {
	p.mu.Lock()
	pc := p.pc
	p.mu.Unlock()
	if pc == nil || pc.SCTP() == nil || pc.SCTP().Transport() == nil {
		return ""
	}
	pair, err := pc.SCTP().Transport().ICETransport().GetSelectedCandidatePair()
	if err != nil || pair == nil {
		return ""
	}
	return pair.Local.Typ.String()
}

// Close closes the peer connection and the socket and waits for the
// peer's goroutines.
func (p *Peer) Close() error {
	p.mu.Lock()
	pc := p.pc
	p.pc = nil
	p.mu.Unlock()
	if pc != nil {
		_ = pc.Close()
	}
	err := p.ws.Close(websocket.StatusNormalClosure, "bye")
	p.cancel()
	p.wg.Wait()
	return err
}
