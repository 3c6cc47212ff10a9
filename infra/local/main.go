// Command local runs all of Goodfaith on one machine: every API route, the
// change-feed consumers, the embedded store, blob directory and signing key
// under one data folder, seeded with demo clinics and providers.
//
//	go run ./infra/local [-addr 127.0.0.1:8080] [-data DIR] [-seed FILE] [-dev]
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/goodfaith/goodfaith/internal/app"
	"github.com/goodfaith/goodfaith/internal/app/localhome"
	"github.com/goodfaith/goodfaith/internal/auth"
	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/directory"
	"github.com/goodfaith/goodfaith/internal/httpapi"
	"github.com/goodfaith/goodfaith/internal/signal/localws"
	"github.com/goodfaith/goodfaith/widget"
)

//go:embed demo-seed.json
var demoSeed []byte

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	data := flag.String("data", "goodfaith-data", "folder of the embedded store, blobs and local keys (created if missing)")
	seedFile := flag.String("seed", "", "JSON seed of clinics and providers (default: the demo seed)")
	dev := flag.Bool("dev", false, "enable POST /dev/token and GET /dev/jwks.json for demos and tests")
	clockOffset := flag.Duration("dev-clock-offset", 0, "with -dev: run the server's clock shifted by this much (e.g. -9000h), to demo and test expiries")
	turnAddr := flag.String("turn", "", "also run a TURN server on this UDP address (e.g. 127.0.0.1:3478); /v1/ice-servers then hands out its short-lived credentials")
	flag.Parse()

	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *clockOffset != 0 && !*dev {
		fmt.Fprintln(os.Stderr, "goodfaith: -dev-clock-offset needs -dev")
		os.Exit(2)
	}
	var clk clock.Clock = clock.System{}
	if *clockOffset != 0 {
		clk = clock.Shifted{By: *clockOffset}
	}
	if err := run(ctx, log, os.Stdout, clk, *addr, *data, *seedFile, *dev, *turnAddr); err != nil {
		fmt.Fprintln(os.Stderr, "goodfaith:", err)
		os.Exit(1)
	}
}

// run serves until ctx is done, printing the banner to out once it serves.
func run(ctx context.Context, log *slog.Logger, out io.Writer, clk clock.Clock, addr, dataDir, seedFile string, dev bool, turnAddr string) error {
	seedJSON := demoSeed
	if seedFile != "" {
		b, err := os.ReadFile(seedFile)
		if err != nil {
			return err
		}
		seedJSON = b
	}
	seed, err := directory.ParseSeed(seedJSON)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	defer ln.Close() // a failed start-up frees the port; after Serve, already closed
	base := "http://" + ln.Addr().String()
	local, err := localhome.Open(dataDir, base, clk, log)
	if err != nil {
		return err
	}
	defer local.Close()

	// The local server is its providers' identity provider; -dev only
	// exposes the token-minting route.
	issuer, err := auth.NewDevIssuer(auth.DevIssuerConfig{Dir: dataDir, Issuer: base + "/dev", Clock: clk})
	if err != nil {
		return err
	}
	verifier, err := issuer.Verifier()
	if err != nil {
		return err
	}
	settings := app.Settings{
		Clock: clk, Log: log, PatientSecret: local.PatientSecret, TokenIssuer: base,
		Providers: verifier, PublicOrigin: base, VerifyBaseURL: base + "/v1/psos/",
		ICEServers: []httpapi.ICEServer{{URLs: []string{"stun:stun.l.google.com:19302"}}},
	}
	if turnAddr != "" {
		turn, err := startTURN(turnAddr, log)
		if err != nil {
			return err
		}
		defer turn.Close()
		settings.ICE = turn.ice
	}
	if dev {
		settings.DevIssuer = issuer
		settings.DevWebhooks = true // webhooks to a receiver on this machine, over http
	}
	a, err := app.New(local.Ports, settings)
	if err != nil {
		return err
	}
	consoles := widget.ConsoleOptions{}
	if dev {
		// The consoles sign in against the dev issuer (OIDC code + PKCE).
		oidc := &auth.DevOIDC{Issuer: issuer, RedirectOrigins: []string{base, strings.Replace(base, "127.0.0.1", "localhost", 1)}}
		admins, err := oidc.ClinicAdminVerifier()
		if err != nil {
			return err
		}
		a.Deps.DevOIDC, a.Deps.ClinicAdmins = oidc, admins
		consoles = widget.ConsoleOptions{Issuer: issuer.Issuer(), ConsoleClientID: oidc.ConsoleClient(), DashboardClientID: oidc.DashboardClient(), DirectorClientID: oidc.DirectorClient()}
	}
	if err := a.LoadSeed(ctx, seed); err != nil {
		return err
	}
	// A data folder an older build wrote may hold queued exams without the
	// SLA-due index's keys, which the sweep would never escalate or expire.
	indexed, err := a.Exams.IndexSLA(ctx)
	if err != nil {
		return fmt.Errorf("putting the queued exams of %s on the SLA index: %w", dataDir, err)
	}
	if indexed > 0 {
		log.InfoContext(ctx, "put queued exams on the SLA index", "exams", indexed)
	}
	a.RunConsumers(ctx, local.Store)
	a.RunSchedules(ctx, app.SweepInterval)
	a.RunIntegrations(ctx)

	mux := http.NewServeMux()
	mux.Handle(localhome.BlobsPath, local.BlobHandler())
	mux.Handle("/", a.Handler(httpapi.AllAudiences...))
	signaling := localhome.Signal(a)
	defer signaling.Close() // after Shutdown: it does not wait for WebSockets
	mux.Handle(localws.Path, signaling)
	mux.Handle(widget.Prefix, a.WidgetHandler())
	mux.Handle(widget.ConsolePrefix, widget.Consoles(consoles))
	mux.Handle(widget.DashboardPrefix, widget.Consoles(consoles))
	if len(seed.Clinics) > 0 {
		// The demo clinic page embeds the widget from base; opened as
		// http://localhost:PORT it is a different origin from the API's.
		mux.Handle(widget.DemoPrefix, widget.Demo(base, seed.Clinics[0].PublishableKey, seed.Clinics[0].Name))
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	printBanner(out, base, dataDir, seed, dev)

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// printBanner tells w where everything runs: with no flags, the demo clinic
// page, the provider console and the clinic dashboard among it (API.md).
func printBanner(w io.Writer, base, dataDir string, seed directory.Seed, dev bool) {
	fmt.Fprintf(w, "Goodfaith is running on the embedded store (data in %s)\n\n", dataDir)
	fmt.Fprintf(w, "  API               %s/v1/\n", base)
	fmt.Fprintf(w, "  PSO signing keys  %s/.well-known/jwks.json\n", base)
	fmt.Fprintf(w, "  PSO verification  POST %s/v1/psos/verify\n", base)
	fmt.Fprintf(w, "  video signaling   ws%s%s?token=…\n", strings.TrimPrefix(base, "http"), localws.Path)
	for _, c := range seed.Clinics {
		fmt.Fprintf(w, "  clinic %-10s publishable key %s, secret key %s\n", c.ID, c.PublishableKey, c.SecretKey)
	}
	fmt.Fprintln(w)
	if dev {
		fmt.Fprintf(w, "  provider tokens   curl -s -XPOST %s/dev/token -d '{\"provider_id\":\"prov_tx_md\"}'\n", base)
	} else {
		fmt.Fprintln(w, "  restart with -dev to mint provider tokens for the demo providers")
	}
	fmt.Fprintf(w, "  try it            curl -s %s/v1/widget/config -H 'X-Goodfaith-Key: %s'\n", base, firstKey(seed))
	if len(seed.Clinics) > 0 {
		fmt.Fprintf(w, "  demo clinic page  %s%s  (the patient widget, embedded cross-origin)\n", strings.Replace(base, "127.0.0.1", "localhost", 1), widget.DemoPrefix)
	}
	// Both pages are always served; without -dev there is no local identity
	// provider, so providers cannot sign in and clinics sign in with their
	// secret key.
	if dev {
		fmt.Fprintf(w, "  provider console  %s%s\n", base, widget.ConsolePrefix)
		fmt.Fprintf(w, "  clinic dashboard  %s%s\n", base, widget.DashboardPrefix)
	} else {
		fmt.Fprintf(w, "  provider console  %s%s  (provider sign-in needs -dev: the local identity provider)\n", base, widget.ConsolePrefix)
		fmt.Fprintf(w, "  clinic dashboard  %s%s  (sign in with a clinic's secret key; -dev adds clinic-admin and director sign-in)\n", base, widget.DashboardPrefix)
	}
	fmt.Fprintf(w, "  widget script     <script src=\"%s%sgoodfaith.js\" data-key=\"%s\" async></script>\n", base, widget.Prefix, firstKey(seed))
}

func firstKey(s directory.Seed) string {
	if len(s.Clinics) == 0 {
		return "pk_…"
	}
	return s.Clinics[0].PublishableKey
}
