package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"time"
)

// client calls the API and records every call's latency and status under
// the endpoint's name (method and path template).
type client struct {
	base string
	http *http.Client
	rec  *recorder
}

func newClient(base string, conns int) *client {
	tr := &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns, IdleConnTimeout: 30 * time.Second}
	return &client{base: base, http: &http.Client{Transport: tr, Timeout: 30 * time.Second}, rec: newRecorder()}
}

type response struct {
	status int
	body   []byte
}

func (r response) decode(v any) error {
	if err := json.Unmarshal(r.body, v); err != nil {
		return fmt.Errorf("status %d: not JSON: %.200s", r.status, r.body)
	}
	return nil
}

// call sends one request; endpoint names it in the statistics. expected
// lists the statuses that are not errors (the first is success).
func (c *client) call(ctx context.Context, endpoint, method, url string, headers map[string]string, body any, expected ...int) (response, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return response{}, err
		}
		rd = bytes.NewReader(raw)
	}
	if len(url) > 0 && url[0] == '/' {
		url = c.base + url
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return response{}, err
	}
	if rd != nil && headers["Content-Type"] == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	if b, ok := body.([]byte); ok {
		req.ContentLength = int64(len(b))
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		c.rec.add(endpoint, time.Since(start), 0, false)
		return response{}, err
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	resp.Body.Close()
	d := time.Since(start)
	ok := false
	for _, s := range expected {
		ok = ok || s == resp.StatusCode
	}
	c.rec.add(endpoint, d, resp.StatusCode, ok)
	if !ok {
		c.rec.sample(endpoint, resp.StatusCode, raw)
	}
	r := response{status: resp.StatusCode, body: raw}
	if err != nil {
		return r, err
	}
	if !ok {
		return r, fmt.Errorf("%s: status %d: %.300s", endpoint, resp.StatusCode, raw)
	}
	return r, nil
}

// recorder keeps latencies and statuses per endpoint.
type recorder struct {
	mu      sync.Mutex
	per     map[string]*endpointStats
	errs    map[string]int    // "endpoint status" → count, unexpected only
	samples map[string]string // "endpoint status" → the first such body
}

func (r *recorder) sample(endpoint string, status int, body []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := fmt.Sprintf("%s → %d", endpoint, status)
	if _, ok := r.samples[k]; !ok {
		r.samples[k] = string(body[:min(len(body), 300)])
	}
}

type endpointStats struct {
	durations []time.Duration
	statuses  map[int]int
}

func newRecorder() *recorder {
	return &recorder{per: map[string]*endpointStats{}, errs: map[string]int{}, samples: map[string]string{}}
}

func (r *recorder) add(endpoint string, d time.Duration, status int, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.per[endpoint]
	if s == nil {
		s = &endpointStats{statuses: map[int]int{}}
		r.per[endpoint] = s
	}
	s.durations = append(s.durations, d)
	s.statuses[status]++
	if !ok {
		r.errs[fmt.Sprintf("%s → %d", endpoint, status)]++
	}
}

func (r *recorder) total() (calls, errors int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.per {
		calls += len(s.durations)
	}
	for _, n := range r.errs {
		errors += n
	}
	return calls, errors
}

// EndpointSummary is one endpoint's figures.
type EndpointSummary struct {
	Endpoint string         `json:"endpoint"`
	Count    int            `json:"count"`
	P50ms    float64        `json:"p50_ms"`
	P95ms    float64        `json:"p95_ms"`
	P99ms    float64        `json:"p99_ms"`
	Maxms    float64        `json:"max_ms"`
	Statuses map[string]int `json:"statuses"`
}

func (r *recorder) summary() ([]EndpointSummary, map[string]int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []EndpointSummary
	for name, s := range r.per {
		ds := append([]time.Duration(nil), s.durations...)
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		st := map[string]int{}
		for code, n := range s.statuses {
			st[fmt.Sprint(code)] = n
		}
		out = append(out, EndpointSummary{Endpoint: name, Count: len(ds), P50ms: ms(quantile(ds, 0.50)), P95ms: ms(quantile(ds, 0.95)),
			P99ms: ms(quantile(ds, 0.99)), Maxms: ms(ds[len(ds)-1]), Statuses: st})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Endpoint < out[j].Endpoint })
	errs := map[string]int{}
	for k, v := range r.errs {
		errs[k] = v
	}
	return out, errs
}

// firstBody is the first body answered with an unexpected status.
func (r *recorder) firstBody(key string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.samples[key]
}

// quantile of sorted ds, nearest rank.
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	i := int(q*float64(len(ds))+0.999999) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(ds) {
		i = len(ds) - 1
	}
	return ds[i]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
