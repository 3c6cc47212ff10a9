package webhook

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/fault"
	"github.com/goodfaith/goodfaith/internal/store"
)

// MaxURLLength bounds an endpoint URL.
const MaxURLLength = 2048

// Endpoint is where a clinic receives its webhooks.
type Endpoint struct {
	ClinicID  string    `json:"clinic_id"`
	URL       string    `json:"url"`
	Secret    string    `json:"secret"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ErrNoEndpoint is returned by Endpoints.Get for a clinic without one.
var ErrNoEndpoint = fault.NotFound("webhook_not_configured", "no webhook URL is set; PUT /v1/clinic/webhook sets one")

func endpointKey(clinicID string) store.Key {
	return store.Key{PK: "WEBHOOK#" + clinicID, SK: "ENDPOINT"}
}

// Resolver looks up a host's addresses (net.DefaultResolver).
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Endpoints reads and sets clinics' endpoints.
type Endpoints struct {
	Store store.Store
	Clock clock.Clock
	// AllowLoopback also accepts http and https URLs to loopback hosts
	// (the local server's -dev mode and tests).
	AllowLoopback bool
	// Resolver checks that a host name resolves to public addresses only;
	// nil: net.DefaultResolver.
	Resolver Resolver
}

// Get returns the clinic's endpoint, or ErrNoEndpoint.
func (e Endpoints) Get(ctx context.Context, clinicID string) (Endpoint, error) {
	it, err := e.Store.Get(ctx, endpointKey(clinicID))
	if errors.Is(err, store.ErrNotFound) {
		return Endpoint{}, ErrNoEndpoint
	}
	if err != nil {
		return Endpoint{}, err
	}
	var ep Endpoint
	return ep, json.Unmarshal(it.Data, &ep)
}

// Set points the clinic's webhooks at rawURL. The secret is made on the
// first Set and kept after (so a retried PUT returns the same one) unless
// rotate asks for a new one.
func (e Endpoints) Set(ctx context.Context, clinicID, rawURL string, rotate bool) (Endpoint, error) {
	u, err := e.CheckURL(ctx, rawURL)
	if err != nil {
		return Endpoint{}, err
	}
	now := e.Clock.Now().UTC()
	k := endpointKey(clinicID)
	old, err := e.Store.Get(ctx, k)
	var ep Endpoint
	cond := store.IfAbsent
	version := int64(1)
	switch {
	case err == nil:
		if err := json.Unmarshal(old.Data, &ep); err != nil {
			return Endpoint{}, err
		}
		cond, version = store.IfVersion(old.Version), old.Version+1
	case errors.Is(err, store.ErrNotFound):
		ep = Endpoint{ClinicID: clinicID, CreatedAt: now}
	default:
		return Endpoint{}, err
	}
	if ep.Secret == "" || rotate {
		ep.Secret = newSecret()
	}
	ep.URL, ep.UpdatedAt = u, now
	data, _ := json.Marshal(ep)
	err = e.Store.Put(ctx, store.Item{PK: k.PK, SK: k.SK, Version: version, Data: data}, cond)
	if errors.Is(err, store.ErrConditionFailed) {
		return Endpoint{}, fault.Conflict("concurrent_update", "the webhook changed while this request ran; nothing was written")
	}
	return ep, err
}

func newSecret() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("webhook: crypto/rand failed: " + err.Error()) // no randomness: nothing safe remains to do
	}
	return "whsec_" + base64.RawURLEncoding.EncodeToString(b[:])
}

// CheckURL accepts an https URL whose host is, or resolves only to, public
// addresses; with AllowLoopback, also http or https to a loopback host. It
// returns the URL as it will be called.
func (e Endpoints) CheckURL(ctx context.Context, raw string) (string, error) {
	bad := func(code, msg string) (string, error) { return "", fault.Invalid(code, "url", msg) }
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return bad("url_required", "give the https URL that receives the webhooks")
	}
	if len(raw) > MaxURLLength {
		return bad("url_too_long", "the URL is over 2048 characters")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return bad("invalid_url", "the URL must be absolute, such as https://example.com/hooks/goodfaith")
	}
	if u.User != nil {
		return bad("invalid_url", "the URL must not carry a user name or password")
	}
	if u.Fragment != "" {
		return bad("invalid_url", "the URL must not carry a #fragment")
	}
	host := u.Hostname()
	loopbackOK := e.AllowLoopback && isLoopbackHost(host)
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && loopbackOK:
	default:
		return bad("url_not_https", "webhook URLs must be https")
	}
	if loopbackOK {
		return u.String(), nil
	}
	addrs, err := e.resolve(ctx, host)
	if err != nil || len(addrs) == 0 {
		return bad("url_unresolvable", "the URL's host does not resolve")
	}
	for _, a := range addrs {
		if !PublicAddr(a) {
			return bad("url_not_public", "the URL's host must be a public internet address")
		}
	}
	return u.String(), nil
}

func (e Endpoints) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	r := e.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return r.LookupNetIP(ctx, "ip", host)
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

// nonPublic are special-purpose ranges (RFC 6890 and successors) beyond
// what netip's predicates name.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"), // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"), // NAT64 can reach private IPv4
	netip.MustParsePrefix("2001:db8::/32"),
	netip.MustParsePrefix("100::/64"),
}

// PublicAddr reports whether a is a globally routable unicast address:
// not loopback, private, link-local, multicast, unspecified or reserved.
func PublicAddr(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || !a.IsGlobalUnicast() || a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}
