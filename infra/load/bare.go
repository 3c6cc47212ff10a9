package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// ReadRatio compares the throughput of our simplest read endpoint with a
// bare net/http handler serving the same bytes, on the same machine, with
// the same client and concurrency, one after the other.
type ReadRatio struct {
	Endpoint    string  `json:"endpoint"`
	OursPerSec  float64 `json:"ours_per_sec"`
	BarePerSec  float64 `json:"bare_per_sec"`
	Ratio       float64 `json:"ratio"`
	Concurrency int     `json:"concurrency"`
	SecondsEach float64 `json:"seconds_each"`
}

func measureReadRatio(ctx context.Context, base string, concurrency int, each time.Duration) (ReadRatio, error) {
	const path = "/.well-known/jwks.json"
	resp, err := http.Get(base + path)
	if err != nil {
		return ReadRatio{}, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return ReadRatio{}, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return ReadRatio{}, err
	}
	bare := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})}
	go bare.Serve(ln)
	defer bare.Close()
	ours, err := hammer(ctx, base+path, concurrency, each)
	if err != nil {
		return ReadRatio{}, err
	}
	b, err := hammer(ctx, "http://"+ln.Addr().String()+path, concurrency, each)
	if err != nil {
		return ReadRatio{}, err
	}
	return ReadRatio{Endpoint: "GET " + path, OursPerSec: ours, BarePerSec: b, Ratio: ours / b, Concurrency: concurrency, SecondsEach: each.Seconds()}, nil
}

// hammer sends GETs from concurrency workers for d and returns 200s/s.
func hammer(ctx context.Context, url string, concurrency int, d time.Duration) (float64, error) {
	tr := &http.Transport{MaxIdleConns: concurrency, MaxIdleConnsPerHost: concurrency}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	var ok, bad atomic.Int64
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
				resp, err := cl.Do(req)
				if err != nil {
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 200 {
					ok.Add(1)
				} else {
					bad.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return float64(ok.Load()) / time.Since(start).Seconds(), nil
}
