// Command videopeer is a provider's side of a video consult as a Pion peer,
// for the widget's browser tests: it goes online on a local server's
// signaling, waits for the ring of a waiting patient, accepts it when told
// (the claim), lets the patient's browser answer its offer, sends a synthetic
// VP8 track and counts the RTP it receives, then decides the exam through
// the API.
//
//	go run ./infra/videopeer -url http://127.0.0.1:8080 [-provider prov_tx_md]
//
// It prints one JSON object per line on stdout ({"event":"ready"},
// {"event":"rung","exam_id":…}, {"event":"connected","ms":…},
// {"event":"rtp","received":…}, {"event":"data","ok":true},
// {"event":"decided","status":…}, or {"event":"error","error":…}) and takes
// commands on stdin, one a line:
//
//	accept              accept the ring, wait for the connection and 30 RTP packets
//	rtp                 wait until at least 30 more RTP packets arrive from the patient
//	data                send a data-channel message and wait for the patient's echo
//	decide OUTCOME      decide (deferred, denied or approved) and leave the room
//
// Every wait has its own timeout (-wait); the whole run is bounded by
// -timeout. The exit status is non-zero after any error.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/pion/webrtc/v3"

	"github.com/goodfaith/goodfaith/internal/peer"
	"github.com/goodfaith/goodfaith/internal/signal"
)

func main() {
	base := flag.String("url", "http://127.0.0.1:8080", "the local server (started with -dev)")
	provider := flag.String("provider", "prov_tx_md", "provider id (POST /dev/token)")
	wait := flag.Duration("wait", 20*time.Second, "bound of each wait (ring, connection, RTP, data, decision)")
	timeout := flag.Duration("timeout", 3*time.Minute, "bound of the whole run")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if err := run(ctx, strings.TrimSuffix(*base, "/"), *provider, *wait); err != nil {
		emit(map[string]any{"event": "error", "error": err.Error()})
		os.Exit(1)
	}
}

func emit(v map[string]any) {
	b, _ := json.Marshal(v)
	fmt.Println(string(b))
}

func run(ctx context.Context, base, providerID string, wait time.Duration) error {
	tok, err := devToken(ctx, base, providerID)
	if err != nil {
		return err
	}
	ice, err := iceServers(ctx, base, tok)
	if err != nil {
		return err
	}
	signalURL := "ws" + strings.TrimPrefix(base, "http") + "/v1/signal"

	// Online: a connection that only listens for rings.
	dctx, dcancel := context.WithTimeout(ctx, wait)
	lobby, err := peer.Dial(dctx, peer.Config{SignalURL: signalURL, Token: tok, Role: peer.Provider, LoopbackOnly: true, NoVideo: true})
	dcancel()
	if err != nil {
		return fmt.Errorf("go online: %w", err)
	}
	defer lobby.Close()
	emit(map[string]any{"event": "ready"})

	examID, err := awaitRing(ctx, lobby, wait)
	if err != nil {
		return err
	}
	emit(map[string]any{"event": "rung", "exam_id": examID})

	var p *peer.Peer
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		cmd := strings.Fields(in.Text())
		if len(cmd) == 0 {
			continue
		}
		if p == nil && cmd[0] != "accept" {
			return fmt.Errorf("%s before accept", cmd[0])
		}
		switch cmd[0] {
		case "accept":
			if p != nil {
				return errors.New("accepted already")
			}
			dctx, dcancel := context.WithTimeout(ctx, wait)
			p, err = peer.Dial(dctx, peer.Config{SignalURL: signalURL, Token: tok, ExamID: examID, Role: peer.Provider, ICEServers: ice, LoopbackOnly: true})
			dcancel()
			if err != nil {
				return fmt.Errorf("dial the call: %w", err)
			}
			defer p.Close()
			actx, acancel := context.WithTimeout(ctx, wait)
			err = p.Accept(actx)
			acancel()
			if err != nil {
				return fmt.Errorf("accept the ring: %w", err)
			}
			cctx, ccancel := context.WithTimeout(ctx, wait)
			took, err := p.WaitConnected(cctx)
			ccancel()
			if err != nil {
				return err
			}
			emit(map[string]any{"event": "connected", "ms": took.Milliseconds()})
			if err := awaitRTP(ctx, p, wait); err != nil {
				return err
			}
		case "rtp":
			if err := awaitRTP(ctx, p, wait); err != nil {
				return err
			}
		case "data":
			if err := echo(ctx, p, wait); err != nil {
				return err
			}
		case "decide":
			if len(cmd) != 2 {
				return errors.New("decide needs an outcome")
			}
			status, err := decide(ctx, base, tok, examID, cmd[1], wait)
			if err != nil {
				return err
			}
			lctx, lcancel := context.WithTimeout(ctx, wait)
			_ = p.Leave(lctx)
			lcancel()
			emit(map[string]any{"event": "decided", "status": status})
			return nil
		default:
			return fmt.Errorf("unknown command %q", cmd[0])
		}
	}
	return errors.New("stdin closed before a decision")
}

func awaitRing(ctx context.Context, p *peer.Peer, wait time.Duration) (string, error) {
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		select {
		case ev := <-p.Events():
			if ev.Type == signal.TypeRing && ev.Action == "" && ev.ExamID != "" {
				return ev.ExamID, nil
			}
		case <-t.C:
			return "", fmt.Errorf("no ring within %s", wait)
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

// awaitRTP waits for 30 more packets from the patient than there were.
func awaitRTP(ctx context.Context, p *peer.Peer, wait time.Duration) error {
	start := p.RTPPackets()
	deadline := time.Now().Add(wait)
	for p.RTPPackets() < start+30 {
		if time.Now().After(deadline) {
			return fmt.Errorf("RTP from the patient: %d packets in %s, want 30", p.RTPPackets()-start, wait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	emit(map[string]any{"event": "rtp", "received": p.RTPPackets()})
	return nil
}

func echo(ctx context.Context, p *peer.Peer, wait time.Duration) error {
	c, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	msg := fmt.Sprintf("ping %d", time.Now().UnixNano())
	if err := p.SendData(c, msg); err != nil {
		return err
	}
	for {
		select {
		case got := <-p.Data():
			if got == msg {
				emit(map[string]any{"event": "data", "ok": true})
				return nil
			}
		case <-c.Done():
			return fmt.Errorf("no echo of the data message: %w", c.Err())
		}
	}
}

func decide(ctx context.Context, base, tok, examID, outcome string, wait time.Duration) (string, error) {
	body := map[string]any{"outcome": outcome, "notes": "seen on video"}
	switch outcome {
	case "deferred", "denied":
		body["reason"] = "Seen on video: please send a recent photo of the area first."
	case "approved":
		body["orders"] = []map[string]any{{"treatment": "neurotoxin", "product": "onabotulinumtoxinA", "dose": "20 units", "route": "intramuscular", "areas": []string{"glabella"}, "frequency": "every 12 weeks", "quantity": 20, "refills": 3, "valid_days": 180}}
		body["attestation"] = map[string]any{"accepted": true}
	default:
		return "", fmt.Errorf("unknown outcome %q", outcome)
	}
	c, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	var out struct {
		Exam struct {
			Status string `json:"status"`
		} `json:"exam"`
	}
	if err := call(c, http.MethodPost, base+"/v1/provider/exams/"+examID+"/decision", tok, body, &out); err != nil {
		return "", err
	}
	return out.Exam.Status, nil
}

func devToken(ctx context.Context, base, providerID string) (string, error) {
	var out struct {
		Token string `json:"token"`
	}
	if err := call(ctx, http.MethodPost, base+"/dev/token", "", map[string]string{"provider_id": providerID}, &out); err != nil {
		return "", fmt.Errorf("provider token (is the server running with -dev?): %w", err)
	}
	return out.Token, nil
}

func iceServers(ctx context.Context, base, tok string) ([]webrtc.ICEServer, error) {
	var out struct {
		ICEServers []struct {
			URLs       []string `json:"urls"`
			Username   string   `json:"username"`
			Credential string   `json:"credential"`
		} `json:"ice_servers"`
	}
	if err := call(ctx, http.MethodGet, base+"/v1/ice-servers", tok, nil, &out); err != nil {
		return nil, err
	}
	var s []webrtc.ICEServer
	for _, x := range out.ICEServers {
		s = append(s, webrtc.ICEServer{URLs: x.URLs, Username: x.Username, Credential: x.Credential})
	}
	return s, nil
}

func call(ctx context.Context, method, url, tok string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, url, res.Status, b)
	}
	return json.Unmarshal(b, out)
}
