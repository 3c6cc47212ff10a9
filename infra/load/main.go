// Command load plays a day of Goodfaith against a server: patients across
// states creating exams, uploading a photo, answering the intake and
// submitting; providers claiming, reading and deciding; clinics polling
// their exams and usage. It prints a progress line every second, then the
// throughput, p50/p95/p99 per endpoint and errors by status, and checks the
// end state: every submitted exam final, usage = the billable decided exams
// (each charged once), every PSO valid offline against the JWKS.
//
//	go run ./infra/load -serve embedded -rate 10 -duration 30s   # in-process server on loopback
//	go run ./infra/load -url http://127.0.0.1:8080 -clinic pk_test_glow:sk_test_glow -provider prov_tx_md -states TX
//	infra/testenv/with-services.sh go run ./infra/load -serve dynamo -cost   # DynamoDB Local + MinIO, with the cost per exam
//
// Against a deployed URL, give each provider's token: -token prov_id=JWT.
// Only loopback targets are allowed unless -allow-remote is given.
//
// The exit status is 0 when the end state verifies, 1 when it does not,
// 2 when the run could not start.
package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/goodfaith/goodfaith/internal/cost"
)

//go:embed seed.json
var loadSeed []byte

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(runMain(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// Result is everything a run measured (-json writes it).
type Result struct {
	Target       string            `json:"target"`
	Home         string            `json:"home,omitempty"`
	Seconds      float64           `json:"seconds"` // arrivals start → last decision
	Exams        int64             `json:"exams_submitted"`
	Decided      int64             `json:"exams_decided"`
	ExamsPerSec  float64           `json:"exams_per_sec"` // decided exams / seconds
	Calls        int               `json:"calls"`
	CallsPerSec  float64           `json:"calls_per_sec"`
	Endpoints    []EndpointSummary `json:"endpoints"`
	Errors       map[string]int    `json:"errors"`
	ErrorSamples map[string]string `json:"error_samples,omitempty"` // the first body of each`
	Shed         int64             `json:"shed"`
	Failed       int64             `json:"patients_failed"`
	Conflicts    int64             `json:"claim_conflicts"`
	Refused      int64             `json:"decisions_refused"` // 409 invalid_transition: cancelled after the claim
	Verification Verification      `json:"verification"`
	ReadRatio    *ReadRatio        `json:"read_ratio,omitempty"`
	Cost         *CostResult       `json:"cost,omitempty"`
	// CPU this process used during the run (server and clients when
	// in process), per decided exam: steadier than latency on a shared
	// machine, so before/after comparisons of a change use it.
	CPUSeconds    float64 `json:"cpu_seconds"`
	CPUmsPerExam  float64 `json:"cpu_ms_per_exam"`
	LoadAvgBefore string  `json:"load_average_before,omitempty"` // /proc/loadavg: the machine's contention
	LoadAvgAfter  string  `json:"load_average_after,omitempty"`
}

// CostResult is the cost model's answer for a run.
type CostResult struct {
	PerExamUSD   float64              `json:"per_exam_usd"`
	ChargedUSD   float64              `json:"charged_usd"`
	PricesSeen   string               `json:"prices_seen"`
	PerExamLines map[string]float64   `json:"per_exam_lines"`
	Usage        cost.Usage           `json:"usage"`
	DynamoCalls  map[string]int64     `json:"dynamodb_calls"`
	DynamoGets   map[string]int64     `json:"dynamodb_gets_by_key"` // GetItem calls by the kind of key read`
	Connections  map[string]connCount `json:"aws_connections"`      // by service: requests on a reused or a new connection
	S3Calls      map[string]int64     `json:"s3_calls"`
}

func runMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	target := fs.String("url", "", "server to load (loopback unless -allow-remote); empty: start one in process (-serve)")
	home := fs.String("serve", "embedded", "with no -url: the in-process server's home, embedded or dynamo (needs infra/testenv/with-services.sh)")
	allowRemote := fs.Bool("allow-remote", false, "allow a -url that is not on loopback (a deployed stack you own)")
	rate := fs.Float64("rate", 5, "new patients per second")
	duration := fs.Duration("duration", 20*time.Second, "how long patients arrive (at most 15m)")
	concurrency := fs.Int("concurrency", 50, "patients in flight at most; arrivals beyond are shed and counted")
	workers := fs.Int("workers", 2, "concurrent workers per provider")
	mixFlag := fs.String("mix", "approved=80,deferred=8,denied=7,cancel=5", "outcome shares of decided exams, and the share of patients who cancel after submitting")
	var clinics, providers, tokens listFlag
	fs.Var(&clinics, "clinic", "pk:sk of a clinic to play (repeatable; default: the load seed's clinics)")
	fs.Var(&providers, "provider", "provider id whose token comes from POST /dev/token (repeatable; default: the load seed's providers)")
	fs.Var(&tokens, "token", "provider_id=JWT for a deployed server (repeatable)")
	states := fs.String("states", "TX,FL,CA,AZ", "patients' states (async exams must be allowed there and a provider licensed)")
	treatments := fs.String("treatments", "neurotoxin,dermal_filler,glp1", "treatments patients ask for")
	poll := fs.Duration("poll", time.Second, "each clinic dashboard's poll interval")
	drain := fs.Duration("drain", 60*time.Second, "after arrivals stop, how long providers may take to decide the rest")
	usageWait := fs.Duration("usage-wait", 30*time.Second, "how long to wait for the meter to bill every decided exam")
	withCost := fs.Bool("cost", false, "with -serve dynamo: print the AWS cost per exam from the calls the run made")
	memoryMB := fs.Int("lambda-memory", 256, "Lambda memory (MB) for the cost model (template.yaml's Globals MemorySize)")
	charged := fs.Int("price-cents", 2799, "the price a clinic is charged per exam, printed next to the cost")
	readRatio := fs.Duration("read-ratio", 0, "also compare GET /.well-known/jwks.json with a bare net/http handler, this long each")
	jsonOut := fs.String("json", "", "write the result as JSON to this file")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of this process (the in-process server and the clients) to this file")
	blockProfile := fs.String("blockprofile", "", "write a blocking profile (where goroutines waited on channels, locks, fsync'd commits) of this process to this file")
	mutexProfile := fs.String("mutexprofile", "", "write a mutex contention profile of this process to this file")
	quiet := fs.Bool("quiet", false, "no progress line")
	summaryDir := fs.String("summary", "", "print make bench's table from the files infra/load/bench.sh wrote in this folder, and exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *summaryDir != "" {
		if err := summary(*summaryDir, stdout); err != nil {
			fmt.Fprintln(stderr, "load:", err)
			return 1
		}
		return 0
	}
	if *duration > 15*time.Minute || *duration <= 0 || *rate <= 0 || *rate > 1000 || *concurrency < 1 || *workers < 1 {
		fmt.Fprintln(stderr, "load: need 0 < -duration ≤ 15m, 0 < -rate ≤ 1000, -concurrency ≥ 1, -workers ≥ 1")
		return 2
	}
	mix, err := parseMix(*mixFlag)
	if err != nil {
		fmt.Fprintln(stderr, "load:", err)
		return 2
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(stderr, "load:", err)
			return 2
		}
		defer f.Close()
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	if *blockProfile != "" {
		// One sample per 100µs blocked: enough to rank the waits without
		// slowing the run it measures.
		runtime.SetBlockProfileRate(int(100 * time.Microsecond))
		defer writeProfile("block", *blockProfile, stderr)
	}
	if *mutexProfile != "" {
		runtime.SetMutexProfileFraction(5)
		defer writeProfile("mutex", *mutexProfile, stderr)
	}

	res := Result{}
	var srv *server
	base := *target
	if base == "" {
		srv, err = serve(ctx, *home, loadSeed, *memoryMB, stderr)
		if err != nil {
			fmt.Fprintln(stderr, "load:", err)
			return 2
		}
		defer srv.Close()
		base, res.Home = srv.URL, *home
		if len(clinics) == 0 {
			clinics = listFlag{"pk_test_load_a:sk_test_load_a", "pk_test_load_b:sk_test_load_b"}
		}
		if len(providers) == 0 && len(tokens) == 0 {
			providers = listFlag{"prov_load_tx", "prov_load_fl", "prov_load_ca", "prov_load_az", "prov_load_multi"}
		}
	} else if err := checkTarget(base, *allowRemote); err != nil {
		fmt.Fprintln(stderr, "load:", err)
		return 2
	}
	res.Target = base
	cfg := Config{Rate: *rate, Duration: *duration, Concurrency: *concurrency, Workers: *workers, Mix: mix,
		States: split(*states), Treatments: split(*treatments), Poll: *poll, Drain: *drain}
	for _, c := range clinics {
		pk, sk, ok := strings.Cut(c, ":")
		if !ok {
			fmt.Fprintf(stderr, "load: -clinic %q: want pk:sk\n", c)
			return 2
		}
		cfg.Clinics = append(cfg.Clinics, Clinic{PK: pk, SK: sk})
	}
	if len(cfg.Clinics) == 0 || len(providers)+len(tokens) == 0 {
		fmt.Fprintln(stderr, "load: against -url, give at least one -clinic and one -provider or -token")
		return 2
	}
	if !*quiet {
		cfg.Progress = func(s string) { fmt.Fprintf(stderr, "\r%s", s) }
	}
	r := &run{cfg: cfg, c: newClient(base, *concurrency+len(providers)*(*workers)+len(tokens)*(*workers)+8), exams: map[string]*examRecord{}}

	var toks []string
	for _, t := range tokens {
		_, jwt, ok := strings.Cut(t, "=")
		if !ok {
			fmt.Fprintf(stderr, "load: -token %q: want provider_id=JWT\n", t)
			return 2
		}
		toks = append(toks, jwt)
	}
	for _, p := range providers {
		resp, err := r.c.call(ctx, "POST /dev/token", "POST", "/dev/token", nil, map[string]string{"provider_id": p}, 200)
		if err != nil {
			fmt.Fprintf(stderr, "load: token for %s (is the server running with -dev?): %v\n", p, err)
			return 2
		}
		var t struct {
			Token string `json:"token"`
		}
		if err := resp.decode(&t); err != nil {
			fmt.Fprintln(stderr, "load:", err)
			return 2
		}
		toks = append(toks, t.Token)
	}
	before, err := r.usageBefore(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "load: usage before the run:", err)
		return 2
	}
	r.c.rec = newRecorder() // the set-up calls are not part of the run

	res.LoadAvgBefore = loadAverage()
	cpuStart := cpuTime()
	start := time.Now()
	_, end := r.play(ctx, toks)
	res.CPUSeconds = (cpuTime() - cpuStart).Seconds()
	res.LoadAvgAfter = loadAverage()
	fmt.Fprintln(stderr)
	res.Seconds = end.Sub(start).Seconds()
	res.Exams, res.Decided = r.submitted.Load(), r.decided.Load()
	res.ExamsPerSec = float64(res.Decided) / res.Seconds
	if res.Decided > 0 {
		res.CPUmsPerExam = 1000 * res.CPUSeconds / float64(res.Decided)
	}
	res.Calls, _ = r.c.rec.total()
	res.CallsPerSec = float64(res.Calls) / res.Seconds
	res.Endpoints, res.Errors = r.c.rec.summary()
	res.ErrorSamples = map[string]string{}
	for k := range res.Errors {
		res.ErrorSamples[k] = r.c.rec.firstBody(k)
	}
	res.Shed, res.Failed, res.Conflicts, res.Refused = r.shed.Load(), r.failed.Load(), r.claimConflicts.Load(), r.decisionsRefused.Load()

	// Server-side counts stop here: verification calls are not the run's.
	var snap *meterSnapshot
	if srv != nil {
		s := snapshot(srv.Meters)
		snap = &s
	}
	res.Verification, err = r.verify(ctx, before, *usageWait)
	if err != nil {
		fmt.Fprintln(stderr, "load: verify:", err)
		return 1
	}
	if *readRatio > 0 {
		rr, err := measureReadRatio(ctx, base, *concurrency, *readRatio)
		if err != nil {
			fmt.Fprintln(stderr, "load: read ratio:", err)
			return 1
		}
		res.ReadRatio = &rr
	}
	if *withCost {
		if snap == nil || *home != "dynamo" {
			fmt.Fprintln(stderr, "load: -cost needs -serve dynamo (capacity units come from DynamoDB Local)")
			return 2
		}
		c, err := costOf(*snap, r, res.Verification, *memoryMB, *charged)
		if err != nil {
			fmt.Fprintln(stderr, "load: cost:", err)
			return 1
		}
		res.Cost = c
	}
	printResult(stdout, res)
	if *withCost {
		p, _ := cost.LoadPrices()
		est, _ := cost.Compute(p, res.Cost.Usage, *charged)
		est.Print(stdout, p)
		printGets(stdout, res.Cost.DynamoGets, res.Decided)
		for svc, c := range res.Cost.Connections {
			fmt.Fprintf(stdout, "%s requests on a reused connection %d, on a new one %d\n", svc, c.Reused, c.New)
		}
	}
	if *jsonOut != "" {
		raw, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(*jsonOut, raw, 0o644); err != nil {
			fmt.Fprintln(stderr, "load:", err)
			return 1
		}
	}
	if !res.Verification.OK() {
		return 1
	}
	return 0
}

// printGets prints the DynamoDB GetItem calls per decided exam by the kind
// of key read, most first: where the round trips go.
func printGets(w io.Writer, gets map[string]int64, exams int64) {
	if exams == 0 || len(gets) == 0 {
		return
	}
	kinds := make([]string, 0, len(gets))
	var total int64
	for k, n := range gets {
		kinds = append(kinds, k)
		total += n
	}
	sort.Slice(kinds, func(i, j int) bool { return gets[kinds[i]] > gets[kinds[j]] })
	fmt.Fprintf(w, "DynamoDB GetItem per decided exam: %.1f, by key (pk sk):\n", float64(total)/float64(exams))
	for _, k := range kinds {
		fmt.Fprintf(w, "  %-40s %6.2f\n", k, float64(gets[k])/float64(exams))
	}
}

// cpuTime is the user and system CPU this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadAverage is the machine's 1, 5 and 15 minute load averages, or "" where
// /proc/loadavg is missing.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// writeProfile writes the named runtime profile (block, mutex) to path.
func writeProfile(name, path string, stderr io.Writer) {
	f, err := os.Create(path)
	if err == nil {
		err = pprof.Lookup(name).WriteTo(f, 0)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "load: %s profile: %v\n", name, err)
	}
}

// meterSnapshot is the server's counts at the end of the run.
type meterSnapshot struct {
	apiRequests, streamInvocations, signs, tier1, tier2, storedBytes int64
	apiGBs, consumerGBs, readUnits, writeUnits                       float64
	ddbCalls, s3Calls, getsByKind                                    map[string]int64
	conns                                                            map[string]connCount
}

func snapshot(m *meters) meterSnapshot {
	s := meterSnapshot{apiRequests: m.apiRequests.Load(), streamInvocations: m.streamInvocations(), signs: m.signs.Load(),
		apiGBs: m.apiGBSeconds.get(), consumerGBs: m.consumerGBSec.get()}
	s.tier1, s.tier2 = m.s3Tiers()
	m.mu.Lock()
	defer m.mu.Unlock()
	s.readUnits, s.writeUnits, s.storedBytes = m.readUnits, m.writeUnits, m.storedBytes
	s.ddbCalls, s.s3Calls = map[string]int64{}, map[string]int64{}
	for k, v := range m.ddbCalls {
		s.ddbCalls[k] = v
	}
	s.getsByKind = map[string]int64{}
	for k, v := range m.getsByKind {
		s.getsByKind[k] = v
	}
	s.conns = map[string]connCount{}
	for k, v := range m.conns {
		s.conns[k] = *v
	}
	for k, v := range m.s3Calls {
		s.s3Calls[k] = v
	}
	return s
}

func costOf(s meterSnapshot, r *run, v Verification, memoryMB, charged int) (*CostResult, error) {
	p, err := cost.LoadPrices()
	if err != nil {
		return nil, err
	}
	if s.readUnits+s.writeUnits == 0 {
		return nil, errors.New("DynamoDB reported no consumed capacity: is ReturnConsumedCapacity honoured?")
	}
	u := cost.Usage{
		Exams:             int(r.decided.Load()),
		APIRequests:       s.apiRequests,
		LambdaInvocations: s.apiRequests + s.streamInvocations,
		LambdaGBSeconds:   s.apiGBs + s.consumerGBs,
		DynamoDBReadUnits: s.readUnits, DynamoDBWriteUnit: s.writeUnits,
		// The photos go straight to S3 on presigned URLs: one PUT each.
		S3Tier1: s.tier1 + r.uploads.Load(), S3Tier2: s.tier2,
		KMSSigns: s.signs,
		// The bucket uses S3 Bucket Keys (template.yaml), so SSE-KMS data
		// keys are per bucket key, not per object: not counted per exam.
		KMSSymmetric:    0,
		StoredBytes:     s.storedBytes + r.uploadBytes.Load(),
		RetentionMonths: 12 * 10, // pso.DefaultRetentionYears
	}
	est, err := cost.Compute(p, u, charged)
	if err != nil {
		return nil, err
	}
	lines := map[string]float64{}
	for _, l := range est.Lines {
		lines[l.Name] = l.PerExam
	}
	return &CostResult{PerExamUSD: est.PerExamUSD, ChargedUSD: float64(charged) / 100, PricesSeen: p.Seen, PerExamLines: lines,
		Usage: u, DynamoCalls: s.ddbCalls, DynamoGets: s.getsByKind, Connections: s.conns, S3Calls: s.s3Calls}, nil
}

func printResult(w io.Writer, res Result) {
	fmt.Fprintf(w, "target %s %s\n", res.Target, res.Home)
	fmt.Fprintf(w, "%d exams submitted, %d decided in %.1fs: %.2f exams/s; %d calls, %.0f calls/s; shed %d, patients failed %d, claim conflicts %d, decisions refused (cancelled after the claim) %d\n",
		res.Exams, res.Decided, res.Seconds, res.ExamsPerSec, res.Calls, res.CallsPerSec, res.Shed, res.Failed, res.Conflicts, res.Refused)
	fmt.Fprintf(w, "cpu %.1fs = %.1f ms per decided exam; load average before %s, after %s\n", res.CPUSeconds, res.CPUmsPerExam, res.LoadAvgBefore, res.LoadAvgAfter)
	fmt.Fprintf(w, "  %-42s %7s %9s %9s %9s %9s  %s\n", "endpoint", "count", "p50 ms", "p95 ms", "p99 ms", "max ms", "statuses")
	for _, e := range res.Endpoints {
		st, _ := json.Marshal(e.Statuses)
		fmt.Fprintf(w, "  %-42s %7d %9.2f %9.2f %9.2f %9.2f  %s\n", e.Endpoint, e.Count, e.P50ms, e.P95ms, e.P99ms, e.Maxms, st)
	}
	if len(res.Errors) == 0 {
		fmt.Fprintln(w, "errors: none")
	} else {
		fmt.Fprintln(w, "errors by endpoint and status:")
		for k, n := range res.Errors {
			fmt.Fprintf(w, "  %-50s %d   first: %s\n", k, n, res.ErrorSamples[k])
		}
	}
	v := res.Verification
	fmt.Fprintf(w, "end state: %d submitted, %d final, %d not final, %d mismatched; usage +%d for %d billable (missing %d, duplicated %d, not owed %d; meter caught up in %dms); PSOs %d/%d valid offline\n",
		v.Submitted, v.Final, len(v.NotFinal), len(v.Mismatched), v.UsageDelta, v.Billable, len(v.UsageMissing), len(v.UsageDupes), len(v.UsageNotOwed), v.UsageWaitedMS, v.PSOsValid, v.PSOs)
	for _, l := range [][]string{v.NotFinal, v.Mismatched, v.UsageMissing, v.UsageDupes, v.UsageNotOwed, v.PSOProblems} {
		for i, s := range l {
			if i == 5 {
				fmt.Fprintf(w, "  … %d more\n", len(l)-5)
				break
			}
			fmt.Fprintln(w, "  problem:", s)
		}
	}
	if v.OK() {
		fmt.Fprintln(w, "end state: OK")
	} else {
		fmt.Fprintln(w, "end state: FAILED")
	}
	if rr := res.ReadRatio; rr != nil {
		fmt.Fprintf(w, "read ratio: %s %.0f/s vs bare net/http %.0f/s = %.1f%% (%d clients, %.0fs each)\n", rr.Endpoint, rr.OursPerSec, rr.BarePerSec, 100*rr.Ratio, rr.Concurrency, rr.SecondsEach)
	}
}

func parseMix(s string) (Mix, error) {
	var m Mix
	for _, part := range split(s) {
		k, v, ok := strings.Cut(part, "=")
		n, err := strconv.Atoi(v)
		if !ok || err != nil || n < 0 || n > 100 {
			return m, fmt.Errorf("-mix %q: want name=percent,…", s)
		}
		switch k {
		case "approved":
			m.Approved = n
		case "deferred":
			m.Deferred = n
		case "denied":
			m.Denied = n
		case "cancel":
			m.Cancel = n
		default:
			return m, fmt.Errorf("-mix: unknown %q (approved, deferred, denied, cancel)", k)
		}
	}
	if m.Approved+m.Deferred+m.Denied == 0 {
		return m, fmt.Errorf("-mix %q: no outcome has a share", s)
	}
	return m, nil
}

func split(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// checkTarget refuses a non-loopback URL unless allowed.
func checkTarget(raw string, allowRemote bool) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("-url %q: want http(s)://host:port", raw)
	}
	if allowRemote {
		return nil
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("-url %q is not on loopback; pass -allow-remote for a deployed stack you own", raw)
}
