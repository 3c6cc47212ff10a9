//go:build pprof

// Profiling build of the local server, for finding where the video load
// spends its time: go build -tags pprof ./infra/local, then run it with
// GOODFAITH_PPROF=127.0.0.1:6060 and fetch /debug/pprof/profile while
// infra/videoload runs. Left out of normal builds so that no server ever
// exposes the profiler by accident.
package main

import (
	"log/slog"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof on http.DefaultServeMux
	"os"
	"runtime"
)

func init() {
	addr := os.Getenv("GOODFAITH_PPROF")
	if addr == "" {
		return
	}
	runtime.SetBlockProfileRate(int(1e6)) // one sample per ms blocked
	runtime.SetMutexProfileFraction(10)
	go func() {
		if err := http.ListenAndServe(addr, nil); err != nil {
			slog.Error("pprof listener", "error", err.Error())
		}
	}()
}
