package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// summary prints make bench's table from the files bench.sh wrote in dir:
// embedded.json and dynamo.json (load runs), gobench.txt and coldstart.txt
// (go test -bench output), sizes.txt (Lambda bootstraps) and widget.txt.
// A figure whose run failed is printed as "not measured".
func summary(dir string, w io.Writer) error {
	load := func(name string) *Result {
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil
		}
		var r Result
		if json.Unmarshal(raw, &r) != nil {
			return nil
		}
		return &r
	}
	emb, ddb := load("embedded.json"), load("dynamo.json")
	row := func(what, value string) { fmt.Fprintf(w, "| %-58s | %s |\n", what, value) }
	fmt.Fprintln(w, "\nmake bench — measured on this machine (shared, 2 cores: figures vary run to run)")
	fmt.Fprintf(w, "| %-58s | %s |\n|%s|%s|\n", "what", "measured", strings.Repeat("-", 60), strings.Repeat("-", 40))
	for _, r := range []struct {
		name string
		res  *Result
	}{{"embedded store", emb}, {"DynamoDB Local + MinIO", ddb}} {
		if r.res == nil {
			row("exams/s end to end, "+r.name, "not measured (run failed)")
			continue
		}
		v := "verified OK"
		if !r.res.Verification.OK() {
			v = "END STATE FAILED"
		}
		row("exams/s end to end, "+r.name, fmt.Sprintf("%.2f (%d decided in %.1fs; %s; %d errors)", r.res.ExamsPerSec, r.res.Decided, r.res.Seconds, v, len(r.res.Errors)))
		row("  CPU per decided exam (server and clients), "+r.name, fmt.Sprintf("%.1f ms; machine load average %s before, %s after", r.res.CPUmsPerExam, r.res.LoadAvgBefore, r.res.LoadAvgAfter))
		worst, worstName := 0.0, ""
		for _, e := range r.res.Endpoints {
			if e.P99ms > worst {
				worst, worstName = e.P99ms, e.Endpoint
			}
		}
		row("worst p99, "+r.name, fmt.Sprintf("%.1f ms (%s)", worst, worstName))
		for _, e := range r.res.Endpoints {
			row("  p99 "+e.Endpoint, fmt.Sprintf("%.1f ms", e.P99ms))
		}
	}
	bench := readLines(filepath.Join(dir, "gobench.txt"))
	for _, b := range []struct{ prefix, what string }{
		{"BenchmarkAsyncLifecycle", "BenchmarkAsyncLifecycle (one client, embedded)"},
		{"BenchmarkIssueLocalKey", "PSO sign+store (BenchmarkIssueLocalKey)"},
		{"BenchmarkRenderPDF", "PSO PDF render"},
		{"BenchmarkEligibilityAndChoice10k", "routing decision, 10k providers"},
		{"BenchmarkPutParallel", "embedded store, concurrent fsync'd put"},
	} {
		row(b.what, benchFigure(bench, b.prefix))
	}
	cold := readLines(filepath.Join(dir, "coldstart.txt"))
	n := 0
	for _, l := range cold {
		if strings.HasPrefix(l, "BenchmarkColdStart") {
			f := strings.Fields(l)
			row("Lambda cold start "+strings.TrimPrefix(f[0], "BenchmarkColdStart"), strings.Join(f[2:], " "))
			n++
		}
	}
	if n == 0 {
		row("Lambda cold start", "not measured")
	}
	sizes := readLines(filepath.Join(dir, "sizes.txt"))
	for _, l := range sizes {
		f := strings.Fields(l)
		if len(f) == 2 {
			var b float64
			fmt.Sscan(f[0], &b)
			row("Lambda binary "+f[1], fmt.Sprintf("%.1f MB", b/1e6))
		}
	}
	if len(sizes) == 0 {
		row("Lambda binary size", "not measured")
	}
	widget := readLines(filepath.Join(dir, "widget.txt"))
	shown := 0
	for _, l := range widget {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "cd ") && !strings.HasPrefix(l, ">") && shown < 8 {
			row("widget", l)
			shown++
		}
	}
	if shown == 0 {
		row("widget sizes", "not measured")
	}
	if ddb != nil && ddb.Cost != nil {
		row("infra cost per exam (us-east-1, prices seen "+ddb.Cost.PricesSeen+")", fmt.Sprintf("$%.6f vs $%.2f charged", ddb.Cost.PerExamUSD, ddb.Cost.ChargedUSD))
	} else {
		row("infra cost per exam", "not measured")
	}
	if emb != nil && emb.ReadRatio != nil {
		rr := emb.ReadRatio
		row("GET /.well-known/jwks.json vs bare net/http", fmt.Sprintf("%.0f/s vs %.0f/s = %.0f%%", rr.OursPerSec, rr.BarePerSec, 100*rr.Ratio))
	} else {
		row("read endpoint vs bare net/http", "not measured")
	}
	return nil
}

func benchFigure(lines []string, prefix string) string {
	for _, l := range lines {
		if !strings.HasPrefix(l, prefix) {
			continue
		}
		f := strings.Fields(l)
		var parts []string
		for i := 2; i+1 < len(f); i += 2 {
			switch {
			case f[i+1] == "ns/op":
				var ns float64
				fmt.Sscan(f[i], &ns)
				parts = append(parts, fmt.Sprintf("%.3f ms/op", ns/1e6))
			case f[i+1] == "exams/s" || f[i+1] == "psos/s":
				parts = append(parts, f[i]+" "+f[i+1])
			}
		}
		return strings.Join(parts, ", ")
	}
	return "not measured"
}

func readLines(path string) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}
