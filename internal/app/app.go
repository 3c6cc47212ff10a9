package app

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/goodfaith/goodfaith/internal/auth"
	"github.com/goodfaith/goodfaith/internal/blob"
	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/connections"
	"github.com/goodfaith/goodfaith/internal/directory"
	"github.com/goodfaith/goodfaith/internal/dispatch"
	"github.com/goodfaith/goodfaith/internal/exam"
	"github.com/goodfaith/goodfaith/internal/httpapi"
	"github.com/goodfaith/goodfaith/internal/ice"
	"github.com/goodfaith/goodfaith/internal/ids"
	"github.com/goodfaith/goodfaith/internal/jwk"
	"github.com/goodfaith/goodfaith/internal/notify"
	"github.com/goodfaith/goodfaith/internal/pso"
	"github.com/goodfaith/goodfaith/internal/questionnaire"
	"github.com/goodfaith/goodfaith/internal/queue"
	"github.com/goodfaith/goodfaith/internal/rules"
	"github.com/goodfaith/goodfaith/internal/signer"
	"github.com/goodfaith/goodfaith/internal/store"
)

// Ports are the adapters of one home (AWS or one machine).
type Ports struct {
	Store store.Store
	// Live keeps signaling's connections and rooms (signal.Handler.Live);
	// nil means Store.
	Live     store.Store
	Blobs    blob.Store
	Signer   signer.Signer
	Notifier notify.Notifier
	// Jobs carries webhook delivery jobs: SQS in AWS; nil, an in-process
	// queue (integrations.go).
	Jobs queue.Queue
}

// Settings are what differs between deployments beyond the adapters.
type Settings struct {
	Clock           clock.Clock   // default: system
	IDs             ids.Generator // default: random
	Log             *slog.Logger  // default: JSON to stderr
	PatientSecret   []byte        // HMAC key of patient tokens, ≥ 32 bytes
	TokenIssuer     string        // iss of patient tokens, e.g. the API's URL
	Providers       httpapi.ProviderVerifier
	DevIssuer       *auth.DevIssuer // enables /dev routes when set
	PublicOrigin    string
	VerifyBaseURL   string
	RetentionYears  int
	ICEServers      []httpapi.ICEServer
	ICE             *ice.Config // short-lived TURN credentials; overrides ICEServers
	RetiredJWKSKeys []jwk.Key   // keys that signed PSOs before a rotation
	DevWebhooks     bool        // also accept http(s) webhook URLs to loopback (-dev)
	// Directors verifies medical directors' JWTs; default, with DevIssuer,
	// the dev issuer's director tokens (oversight.go).
	Directors httpapi.ProviderVerifier
}

// App is the assembled service.
type App struct {
	Ports     Ports
	Settings  Settings
	Exams     *exam.Service
	Directory directory.Directory
	Rules     *rules.Set
	Deps      httpapi.Deps
	// Integrations are billing, webhooks and invites (integrations.go).
	Integrations *Integrations
	// localHub is the local signaling hub once LocalHub made it, so that
	// the scheduled connections sweep can tell rooms (signal.go); atomic
	// because the schedule's goroutine may start first.
	localHub atomic.Pointer[connections.Hub]
}

// New assembles the service.
func New(p Ports, s Settings) (*App, error) {
	if s.Clock == nil {
		s.Clock = clock.System{}
	}
	if s.IDs == nil {
		s.IDs = ids.Random{}
	}
	if s.Log == nil {
		s.Log = slog.Default()
	}
	tokens, err := auth.NewPatientTokens(s.PatientSecret, s.TokenIssuer, auth.DefaultPatientTokenTTL, s.Clock)
	if err != nil {
		return nil, err
	}
	rs := rules.Default()
	dir := directory.Directory{Store: p.Store}
	exams := &exam.Service{
		Store: p.Store, Blobs: p.Blobs, Directory: dir, Rules: rs, Questionnaires: questionnaire.Default(),
		PSOs:  pso.Issuer{Signer: p.Signer, Blobs: p.Blobs, Store: p.Store, RetentionYears: s.RetentionYears, VerifyBaseURL: s.VerifyBaseURL},
		Clock: s.Clock, IDs: s.IDs,
	}
	a := &App{Ports: p, Settings: s, Exams: exams, Directory: dir, Rules: rs}
	a.Deps = httpapi.Deps{
		Exams: exams, Directory: dir, Store: p.Store, PatientTokens: tokens, Providers: s.Providers,
		Keyring: signer.Keyring{Current: p.Signer, Retired: s.RetiredJWKSKeys}, Clock: s.Clock, IDs: s.IDs, Log: s.Log,
		PublicOrigin: s.PublicOrigin, VerifyBaseURL: s.VerifyBaseURL, ICEServers: s.ICEServers, ICE: s.ICE, DevIssuer: s.DevIssuer,
	}
	if err := a.wireIntegrations(); err != nil {
		return nil, err
	}
	if err := a.wireOversight(); err != nil { // oversight.go
		return nil, err
	}
	return a, nil
}

// Handler serves the API routes of the audiences.
func (a *App) Handler(audiences ...httpapi.Audience) http.Handler {
	return httpapi.New(a.Deps, audiences...)
}

// Serve serves the routes given: a Lambda function's, which links only
// those (httpapi.Routes).
func (a *App) Serve(routes ...httpapi.Routes) http.Handler {
	return httpapi.Mount(a.Deps, routes...)
}

// Consumer is a named change-feed handler.
type Consumer struct {
	Name   string
	Handle store.ChangeHandler
}

// Consumers lists the change-feed consumers.
func (a *App) Consumers() []Consumer {
	d := dispatch.Dispatcher{Store: a.Ports.Store, Rules: a.Rules, Notifier: a.Ports.Notifier, Clock: a.Settings.Clock}
	return append([]Consumer{{Name: dispatch.ConsumerName, Handle: d.Handle}}, a.integrationConsumers()...)
}

// RunConsumers runs every consumer on feed until ctx ends, restarting a
// consumer that fails after a pause.
func (a *App) RunConsumers(ctx context.Context, feed store.ChangeFeed) {
	for _, c := range a.Consumers() {
		go func() {
			for ctx.Err() == nil {
				if err := feed.Consume(ctx, c.Name, c.Handle); err != nil && ctx.Err() == nil {
					a.Settings.Log.ErrorContext(ctx, "consumer stopped", "consumer", c.Name, "error", err.Error())
					select {
					case <-ctx.Done():
					case <-time.After(time.Second):
					}
				}
			}
		}()
	}
}

// SweepInterval is how often the schedules run (EventBridge rate(1 minute)
// in AWS; the local server's ticker).
const SweepInterval = time.Minute

// RunSchedules runs the periodic jobs — claim-lease and SLA sweeps
// (exam.Service.Sweep) and the signaling connections sweep — every
// interval until ctx ends: the one-machine stand-in for the EventBridge
// schedule. Sweeps are idempotent, so a tick overlapping another home's
// sweep changes nothing twice.
func (a *App) RunSchedules(ctx context.Context, every time.Duration) {
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				rep, err := a.Exams.Sweep(ctx)
				if err != nil && ctx.Err() == nil {
					a.Settings.Log.ErrorContext(ctx, "sweep failed", "error", err.Error())
				}
				if rep.Escalated+rep.Expired+rep.LeasesExpired > 0 {
					a.Settings.Log.InfoContext(ctx, "sweep", "escalated", rep.Escalated, "expired", rep.Expired, "leases_expired", rep.LeasesExpired)
				}
				if n, err := a.SweepConnections(ctx); err != nil && ctx.Err() == nil {
					a.Settings.Log.ErrorContext(ctx, "connections sweep failed", "error", err.Error())
				} else if n > 0 {
					a.Settings.Log.InfoContext(ctx, "connections sweep", "dropped", n)
				}
			}
		}
	}()
}

// LoadSeed loads clinics and providers, idempotently.
func (a *App) LoadSeed(ctx context.Context, seed directory.Seed) error {
	return a.Directory.Load(ctx, seed, a.Rules, auth.HashSecretKey)
}
