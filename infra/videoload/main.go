// Command videoload runs N concurrent video consults against a running
// local server and reports time to connected and signaling relay latency.
//
//	go run ./infra/local -dev -data /tmp/gf-load -seed infra/videoload/seed.json [-turn 127.0.0.1:3478]
//	go run ./infra/videoload -n 50 [-url http://127.0.0.1:8080] [-relay]
//
// For each consult it creates a Texas neurotoxin video exam through the
// patient API (publishable key of the seed's clinic), submits it, mints a
// token for one of the seed's providers (POST /dev/token), and then, all
// consults at once: the provider connects to /v1/signal (online), the
// patient connects and joins (ringing the provider), the provider accepts
// (the claim), and the two Pion peers negotiate, exchange a data message
// and video RTP. Time to connected runs from the patient's dial to the
// later of the two peers connecting. Relay latency is the time an offer,
// answer or candidate takes from one peer's send to the other's read
// through the server (one process, one clock). Each exam then ends as
// not_applicable (never billed), freeing the provider's claim. The goal on loopback is
// p99 time to connected ≤ 1.5 s.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pion/webrtc/v3"

	"github.com/goodfaith/goodfaith/internal/peer"
)

func main() {
	base := flag.String("url", "http://127.0.0.1:8080", "the local server")
	n := flag.Int("n", 50, "concurrent consults")
	key := flag.String("key", "pk_test_load", "publishable key of the clinic")
	prefix := flag.String("providers", "prov_load_%03d", "provider id pattern (numbered from 1)")
	timeout := flag.Duration("timeout", 60*time.Second, "bound of the whole run")
	relay := flag.Bool("relay", false, "force relayed candidates through the TURN server of /v1/ice-servers")
	flag.Parse()
	if *n < 1 || *n > 200 {
		fmt.Fprintln(os.Stderr, "videoload: -n must be 1..200")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	rep, err := run(ctx, config{base: strings.TrimSuffix(*base, "/"), n: *n, key: *key, prefix: *prefix, relay: *relay})
	if rep != nil {
		rep.print(os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "videoload:", err)
		os.Exit(1)
	}
}

type config struct {
	base, key, prefix string
	n                 int
	relay             bool
}

type consult struct {
	examID, patientToken, providerToken string
	patICE, provICE                     []webrtc.ICEServer
}

type result struct {
	connected time.Duration
	relay     []time.Duration
	err       error
}

type report struct {
	n, ok     int
	setup     time.Duration
	connected []time.Duration
	relay     []time.Duration
	errs      []string
}

func run(ctx context.Context, c config) (*report, error) {
	start := time.Now()
	cs := make([]consult, c.n)
	errc := make(chan error, c.n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			var err error
			cs[i], err = prepare(ctx, c, i)
			if err != nil {
				errc <- fmt.Errorf("consult %d setup: %w", i, err)
			}
		}()
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return nil, err
	}
	rep := &report{n: c.n, setup: time.Since(start)}
	results := make([]result, c.n)
	for i := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = runConsult(ctx, c, cs[i])
		}()
	}
	wg.Wait()
	for _, r := range results {
		if r.err != nil {
			rep.errs = append(rep.errs, r.err.Error())
			continue
		}
		rep.ok++
		rep.connected = append(rep.connected, r.connected)
		rep.relay = append(rep.relay, r.relay...)
	}
	if rep.ok != rep.n {
		return rep, fmt.Errorf("%d of %d consults failed", rep.n-rep.ok, rep.n)
	}
	return rep, nil
}

func prepare(ctx context.Context, c config, i int) (consult, error) {
	var created struct {
		Exam struct {
			ID string `json:"id"`
		} `json:"exam"`
		PatientToken string `json:"patient_token"`
	}
	body := map[string]any{
		"patient":    map[string]any{"first_name": "Load", "last_name": fmt.Sprintf("Patient%d", i), "dob": "1990-04-12", "email": fmt.Sprintf("load%d@example.com", i), "state": "TX"},
		"treatments": []string{"neurotoxin"}, "modality": "video",
	}
	if err := call(ctx, c, "POST", "/v1/exams", map[string]string{"X-Goodfaith-Key": c.key, "Origin": c.base}, body, 201, &created); err != nil {
		return consult{}, err
	}
	id, tok := created.Exam.ID, created.PatientToken
	auth := map[string]string{"Authorization": "Bearer " + tok}
	intake := map[string]any{
		"answers": map[string]any{"pregnant": false, "breastfeeding": false, "allergies": false, "medications": "none", "conditions": "none",
			"neuromuscular_disease": false, "toxin_allergy": false, "site_infection": false, "aminoglycosides": false},
		"consents": map[string]bool{"telehealth": true, "privacy": true},
	}
	if err := call(ctx, c, "PUT", "/v1/exams/"+id+"/intake", auth, intake, 200, nil); err != nil {
		return consult{}, err
	}
	if err := call(ctx, c, "POST", "/v1/exams/"+id+"/submit", auth, nil, 202, nil); err != nil {
		return consult{}, err
	}
	var minted struct {
		Token string `json:"token"`
	}
	if err := call(ctx, c, "POST", "/dev/token", nil, map[string]string{"provider_id": fmt.Sprintf(c.prefix, i+1)}, 200, &minted); err != nil {
		return consult{}, fmt.Errorf("%w (is the server running with -dev and -seed infra/videoload/seed.json?)", err)
	}
	out := consult{examID: id, patientToken: tok, providerToken: minted.Token}
	if c.relay {
		var err error
		if out.patICE, err = iceServers(ctx, c, tok); err != nil {
			return consult{}, err
		}
		if out.provICE, err = iceServers(ctx, c, minted.Token); err != nil {
			return consult{}, err
		}
	}
	return out, nil
}

func iceServers(ctx context.Context, c config, token string) ([]webrtc.ICEServer, error) {
	var body struct {
		ICEServers []struct {
			URLs       []string `json:"urls"`
			Username   string   `json:"username"`
			Credential string   `json:"credential"`
		} `json:"ice_servers"`
	}
	if err := call(ctx, c, "GET", "/v1/ice-servers", map[string]string{"Authorization": "Bearer " + token}, nil, 200, &body); err != nil {
		return nil, err
	}
	var out []webrtc.ICEServer
	for _, s := range body.ICEServers {
		if s.Username != "" {
			out = append(out, webrtc.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
		}
	}
	if len(out) == 0 {
		return nil, errors.New("/v1/ice-servers lists no TURN server (start the local server with -turn)")
	}
	return out, nil
}

func runConsult(ctx context.Context, c config, cs consult) result {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	sig := "ws" + strings.TrimPrefix(c.base, "http") + "/v1/signal"
	prov, err := peer.Dial(ctx, peer.Config{SignalURL: sig, Token: cs.providerToken, ExamID: cs.examID, Role: peer.Provider, ICEServers: cs.provICE, RelayOnly: c.relay, LoopbackOnly: true})
	if err != nil {
		return result{err: err}
	}
	defer prov.Close()
	start := time.Now()
	pat, err := peer.Dial(ctx, peer.Config{SignalURL: sig, Token: cs.patientToken, ExamID: cs.examID, Role: peer.Patient, ICEServers: cs.patICE, RelayOnly: c.relay, LoopbackOnly: true})
	if err != nil {
		return result{err: err}
	}
	defer pat.Close()
	if err := pat.Join(ctx); err != nil {
		return result{err: fmt.Errorf("patient join: %w", err)}
	}
	if err := prov.Accept(ctx); err != nil {
		return result{err: fmt.Errorf("provider accept: %w", err)}
	}
	for _, p := range []*peer.Peer{pat, prov} {
		if _, err := p.WaitConnected(ctx); err != nil {
			return result{err: err}
		}
	}
	connected := time.Since(start)
	if err := prov.SendData(ctx, "ping"); err != nil {
		return result{err: err}
	}
	select {
	case <-pat.Data():
	case <-ctx.Done():
		return result{err: errors.New("data message not received")}
	}
	for pat.RTPPackets() < 5 || prov.RTPPackets() < 5 {
		select {
		case <-ctx.Done():
			return result{err: errors.New("video RTP not received")}
		case <-time.After(20 * time.Millisecond):
		}
	}
	res := result{connected: connected, relay: append(pat.RelayLatencies(), prov.RelayLatencies()...)}
	// End the exam (not applicable: never billed) so the provider's claim
	// slot is free for the next run.
	if err := call(ctx, c, "POST", "/v1/provider/exams/"+cs.examID+"/decision", map[string]string{"Authorization": "Bearer " + cs.providerToken},
		map[string]any{"outcome": "not_applicable", "reason": "load test"}, 200, nil); err != nil {
		res.err = fmt.Errorf("ending the exam: %w", err)
	}
	return res
}

func call(ctx context.Context, c config, method, path string, headers map[string]string, body any, want int, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, bytes.TrimSpace(raw))
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

func pct(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(p*float64(len(s))+0.5) - 1
	return s[max(0, min(i, len(s)-1))]
}

func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "consults: %d concurrent, %d connected (setup through the API %v)\n", r.n, r.ok, r.setup.Round(time.Millisecond))
	fmt.Fprintf(w, "time to connected: p50 %v  p99 %v  max %v\n", pct(r.connected, .5).Round(time.Millisecond), pct(r.connected, .99).Round(time.Millisecond), pct(r.connected, 1).Round(time.Millisecond))
	fmt.Fprintf(w, "signaling relay latency (%d messages): p50 %v  p99 %v\n", len(r.relay), pct(r.relay, .5).Round(10*time.Microsecond), pct(r.relay, .99).Round(10*time.Microsecond))
	for i, e := range r.errs {
		if i == 5 {
			fmt.Fprintf(w, "… and %d more failures\n", len(r.errs)-5)
			break
		}
		fmt.Fprintln(w, "failed:", e)
	}
}
