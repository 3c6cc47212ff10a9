package auth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/jwk"
)

// jwksServer serves a JWKS that tests can change, count requests to, break
// or hold.
type jwksServer struct {
	*httptest.Server
	mu       sync.Mutex
	body     []byte
	status   int
	requests atomic.Int64
	hold     chan struct{} // when set, requests wait for it to close
	entered  chan struct{} // receives once per request when hold is set
}

func newJWKSServer(t *testing.T, set jwk.Set) *jwksServer {
	t.Helper()
	s := &jwksServer{status: http.StatusOK}
	s.setKeys(t, set)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		s.mu.Lock()
		hold, entered, body, status := s.hold, s.entered, s.body, s.status
		s.mu.Unlock()
		if hold != nil {
			entered <- struct{}{}
			<-hold
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) setKeys(t *testing.T, set jwk.Set) {
	t.Helper()
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	s.setBody(b, http.StatusOK)
}

func (s *jwksServer) setBody(b []byte, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.body, s.status = b, status
}

// holdRequests makes requests block until the returned func is called.
func (s *jwksServer) holdRequests() (entered <-chan struct{}, release func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	hold := make(chan struct{})
	s.hold = hold
	s.entered = make(chan struct{}, 100)
	var once sync.Once
	return s.entered, func() {
		once.Do(func() {
			s.mu.Lock()
			s.hold = nil
			s.mu.Unlock()
			close(hold)
		})
	}
}

func (s *jwksServer) count() int64 { return s.requests.Load() }

func newRemote(t *testing.T, url string, clk clock.Clock, opts RemoteJWKSOptions) *RemoteJWKS {
	t.Helper()
	opts.Clock = clk
	r, err := NewRemoteJWKS(url, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRemoteJWKSFetchesOnceAndCaches(t *testing.T) {
	k := loadTestKeys(t)
	srv := newJWKSServer(t, trustedSet(k))
	clk := clock.NewFake(t0)
	r := newRemote(t, srv.URL+"/.well-known/jwks.json", clk, RemoteJWKSOptions{})
	ctx := context.Background()

	for i := 0; i < 5; i++ {
		pub, err := r.Key(ctx, ecKid)
		if err != nil {
			t.Fatal(err)
		}
		if !k.ec.PublicKey.Equal(pub) {
			t.Fatal("wrong key")
		}
	}
	if pub, err := r.Key(ctx, rsaKid); err != nil || !k.rsa.PublicKey.Equal(pub) {
		t.Fatalf("rsa: %v, %v", pub, err)
	}
	if n := srv.count(); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
}

func TestRemoteJWKSUnknownKidRefreshAtMostOncePerInterval(t *testing.T) {
	k := loadTestKeys(t)
	srv := newJWKSServer(t, jwk.Set{Keys: []jwk.Key{jwk.FromECDSA(&k.ec.PublicKey, ecKid)}})
	clk := clock.NewFake(t0)
	r := newRemote(t, srv.URL, clk, RemoteJWKSOptions{})
	ctx := context.Background()

	if _, err := r.Key(ctx, ecKid); err != nil {
		t.Fatal(err)
	}
	// Unknown kids within the minute: no new request, however many.
	clk.Advance(10 * time.Second)
	for i := 0; i < 10; i++ {
		if _, err := r.Key(ctx, "rotated"); !errors.Is(err, ErrUnknownKey) || !errors.Is(err, ErrUnauthenticated) {
			t.Fatalf("unknown kid: %v", err)
		}
	}
	if n := srv.count(); n != 1 {
		t.Fatalf("%d requests within the interval, want 1", n)
	}

	// The IdP rotates: after the interval, an unknown kid triggers one fetch.
	rotated := trustedSet(k)
	rotated.Keys[0].Kid = "rotated"
	srv.setKeys(t, rotated)
	clk.Advance(DefaultJWKSRefreshInterval)
	pub, err := r.Key(ctx, "rotated")
	if err != nil || !k.rsa.PublicKey.Equal(pub) {
		t.Fatalf("rotated key: %v, %v", pub, err)
	}
	if n := srv.count(); n != 2 {
		t.Fatalf("%d requests, want 2", n)
	}
	// Still unknown after a refresh: no more fetches for a minute.
	for i := 0; i < 3; i++ {
		if _, err := r.Key(ctx, "never"); !errors.Is(err, ErrUnknownKey) {
			t.Fatal(err)
		}
	}
	if n := srv.count(); n != 2 {
		t.Fatalf("%d requests, want 2", n)
	}
}

func TestRemoteJWKSMaxAge(t *testing.T) {
	k := loadTestKeys(t)
	srv := newJWKSServer(t, trustedSet(k))
	clk := clock.NewFake(t0)
	r := newRemote(t, srv.URL, clk, RemoteJWKSOptions{})
	ctx := context.Background()
	if _, err := r.Key(ctx, ecKid); err != nil {
		t.Fatal(err)
	}
	clk.Advance(DefaultJWKSMaxAge - time.Second)
	if _, err := r.Key(ctx, ecKid); err != nil {
		t.Fatal(err)
	}
	if n := srv.count(); n != 1 {
		t.Fatalf("%d requests before max age, want 1", n)
	}
	// The IdP dropped the EC key: once stale, the set is fetched again and
	// the dropped key is gone.
	srv.setKeys(t, jwk.Set{Keys: []jwk.Key{jwk.FromRSA(&k.rsa.PublicKey, rsaKid)}})
	clk.Advance(time.Second)
	if _, err := r.Key(ctx, ecKid); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("dropped key after max age: %v", err)
	}
	if n := srv.count(); n != 2 {
		t.Fatalf("%d requests after max age, want 2", n)
	}
}

func TestRemoteJWKSServesStaleWhenRefreshFails(t *testing.T) {
	k := loadTestKeys(t)
	srv := newJWKSServer(t, trustedSet(k))
	clk := clock.NewFake(t0)
	r := newRemote(t, srv.URL, clk, RemoteJWKSOptions{})
	ctx := context.Background()
	if _, err := r.Key(ctx, ecKid); err != nil {
		t.Fatal(err)
	}
	srv.setBody([]byte("oops"), http.StatusInternalServerError)
	clk.Advance(2 * DefaultJWKSMaxAge)
	for i := 0; i < 3; i++ {
		pub, err := r.Key(ctx, ecKid)
		if err != nil || !k.ec.PublicKey.Equal(pub) {
			t.Fatalf("stale key not served: %v, %v", pub, err)
		}
	}
	if n := srv.count(); n != 2 {
		t.Fatalf("%d requests, want 2 (one failed refresh, then rate-limited)", n)
	}
	// Recovery after the interval.
	srv.setKeys(t, trustedSet(k))
	clk.Advance(DefaultJWKSRefreshInterval)
	if _, err := r.Key(ctx, ecKid); err != nil {
		t.Fatal(err)
	}
	if n := srv.count(); n != 3 {
		t.Fatalf("%d requests, want 3", n)
	}
	clk.Advance(DefaultJWKSMaxAge - time.Second)
	if _, err := r.Key(ctx, ecKid); err != nil || srv.count() != 3 {
		t.Fatalf("recovered set not fresh: %v, %d requests", err, srv.count())
	}
}

func TestRemoteJWKSColdFailure(t *testing.T) {
	k := loadTestKeys(t)
	srv := newJWKSServer(t, trustedSet(k))
	srv.setBody([]byte("down"), http.StatusBadGateway)
	clk := clock.NewFake(t0)
	r := newRemote(t, srv.URL, clk, RemoteJWKSOptions{})
	ctx := context.Background()

	_, err := r.Key(ctx, ecKid)
	if !errors.Is(err, ErrKeysUnavailable) || errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("cold failure: %v", err)
	}
	if !strings.Contains(err.Error(), "502") {
		t.Errorf("error does not say why: %v", err)
	}
	// Rate-limited retry, but sooner than the refresh interval.
	if _, err := r.Key(ctx, ecKid); !errors.Is(err, ErrKeysUnavailable) || srv.count() != 1 {
		t.Fatalf("immediate retry: %v, %d requests", err, srv.count())
	}
	srv.setKeys(t, trustedSet(k))
	clk.Advance(emptyRetryInterval)
	if _, err := r.Key(ctx, ecKid); err != nil {
		t.Fatalf("retry after %v: %v", emptyRetryInterval, err)
	}
	if n := srv.count(); n != 2 {
		t.Fatalf("%d requests, want 2", n)
	}
}

func TestRemoteJWKSBadResponses(t *testing.T) {
	k := loadTestKeys(t)
	good, _ := json.Marshal(trustedSet(k))
	small := RemoteJWKSOptions{MaxBytes: 4096}
	cases := []struct {
		name   string
		body   string
		status int
	}{
		{"not found", "", http.StatusNotFound},
		{"redirect status without location", string(good), http.StatusMultipleChoices},
		{"not JSON", "<html>", http.StatusOK},
		{"empty", "", http.StatusOK},
		{"no keys", `{"keys":[]}`, http.StatusOK},
		{"keys null", `{"keys":null}`, http.StatusOK},
		{"only unusable keys", `{"keys":[{"kty":"oct","kid":"s","k":"c2VjcmV0"},{"kty":"RSA","kid":"r","n":"AQAB","e":"AQAB"}]}`, http.StatusOK},
		{"over the size limit", `{"keys":[` + strings.Repeat(`{"kty":"oct","kid":"pad"},`, 400) + string(good[len(`{"keys":[`):]), http.StatusOK},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := newJWKSServer(t, jwk.Set{})
			srv.setBody([]byte(c.body), c.status)
			r := newRemote(t, srv.URL, clock.NewFake(t0), small)
			if _, err := r.Key(context.Background(), ecKid); !errors.Is(err, ErrKeysUnavailable) {
				t.Fatalf("err = %v, want ErrKeysUnavailable", err)
			}
		})
	}
}

func TestRemoteJWKSSkipsUnusableKeys(t *testing.T) {
	k := loadTestKeys(t)
	ec := jwk.FromECDSA(&k.ec.PublicKey, ecKid)
	enc := jwk.FromRSA(&k.rsa.PublicKey, "enc-key")
	enc.Use = "enc"
	noKid := jwk.FromRSA(&k.rsa.PublicKey, "")
	dup := jwk.FromRSA(&k.rsa.PublicKey, ecKid) // same kid again: first wins
	srv := newJWKSServer(t, jwk.Set{Keys: []jwk.Key{{Kty: "OKP", Kid: "ed"}, enc, noKid, ec, dup}})
	r := newRemote(t, srv.URL, clock.NewFake(t0), RemoteJWKSOptions{})
	ctx := context.Background()
	if pub, err := r.Key(ctx, ecKid); err != nil || !k.ec.PublicKey.Equal(pub) {
		t.Fatalf("usable key: %v, %v", pub, err)
	}
	for _, kid := range []string{"ed", "enc-key", ""} {
		if _, err := r.Key(ctx, kid); !errors.Is(err, ErrUnknownKey) {
			t.Errorf("Key(%q) = %v, want ErrUnknownKey", kid, err)
		}
	}
}

func TestRemoteJWKSSingleFlight(t *testing.T) {
	k := loadTestKeys(t)
	srv := newJWKSServer(t, trustedSet(k))
	entered, release := srv.holdRequests()
	defer release()
	r := newRemote(t, srv.URL, clock.System{}, RemoteJWKSOptions{})

	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			kid := ecKid
			if i%2 == 1 {
				kid = rsaKid
			}
			_, err := r.Key(context.Background(), kid)
			errs <- err
		}(i)
	}
	<-entered                         // the one fetch is in progress
	time.Sleep(50 * time.Millisecond) // let the other callers pile up behind it
	release()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if c := srv.count(); c != 1 {
		t.Fatalf("%d requests for %d concurrent callers, want 1", c, n)
	}
}

func TestRemoteJWKSContextCancelWhileWaiting(t *testing.T) {
	k := loadTestKeys(t)
	srv := newJWKSServer(t, trustedSet(k))
	entered, release := srv.holdRequests()
	defer release()
	r := newRemote(t, srv.URL, clock.System{}, RemoteJWKSOptions{})

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := r.Key(ctx, ecKid)
		done <- err
	}()
	<-entered
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	// The shared fetch was not cancelled with the caller: it completes and
	// serves the next caller without a second request.
	release()
	if _, err := r.Key(context.Background(), ecKid); err != nil {
		t.Fatal(err)
	}
	if c := srv.count(); c != 1 {
		t.Fatalf("%d requests, want 1", c)
	}
}

func TestRemoteJWKSClientTimeout(t *testing.T) {
	k := loadTestKeys(t)
	srv := newJWKSServer(t, trustedSet(k))
	_, release := srv.holdRequests()
	defer release()
	r := newRemote(t, srv.URL, clock.System{}, RemoteJWKSOptions{Client: &http.Client{Timeout: 50 * time.Millisecond}})
	start := time.Now()
	_, err := r.Key(context.Background(), ecKid)
	if !errors.Is(err, ErrKeysUnavailable) {
		t.Fatalf("err = %v, want ErrKeysUnavailable", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v", d)
	}
}

func TestNewRemoteJWKSURL(t *testing.T) {
	for _, u := range []string{
		"https://cognito-idp.us-east-1.amazonaws.com/us-east-1_X/.well-known/jwks.json",
		"http://127.0.0.1:8080/dev/jwks.json",
		"http://localhost/dev/jwks.json",
		"http://[::1]:9/jwks",
	} {
		if _, err := NewRemoteJWKS(u, RemoteJWKSOptions{}); err != nil {
			t.Errorf("%s refused: %v", u, err)
		}
	}
	for _, u := range []string{
		"", "jwks.json", "http://example.com/jwks.json", "http://10.0.0.1/jwks", "ftp://127.0.0.1/jwks",
		"https:///jwks", "file:///etc/passwd", "http://127.0.0.1.evil.test/jwks", "://",
	} {
		if _, err := NewRemoteJWKS(u, RemoteJWKSOptions{}); err == nil {
			t.Errorf("%q accepted", u)
		}
	}
}

func TestProviderVerifierWithRemoteJWKS(t *testing.T) {
	dev, err := NewDevIssuer(DevIssuerConfig{Dir: t.TempDir(), Issuer: "http://127.0.0.1/dev", Audience: "goodfaith-console"})
	if err != nil {
		t.Fatal(err)
	}
	srv := newJWKSServer(t, dev.JWKS())
	r := newRemote(t, srv.URL, nil, RemoteJWKSOptions{})
	v := &ProviderVerifier{Issuer: dev.Issuer(), Audience: dev.Audience(), Keys: r}
	tok, err := dev.Mint("prov_tx_md", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	p, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if p != (Principal{Role: RoleProvider, ProviderID: "prov_tx_md"}) {
		t.Fatalf("principal = %+v", p)
	}
	// A token from a key the JWKS does not have.
	k := loadTestKeys(t)
	forged := sign(t, jwt.SigningMethodES256, k.ecAttacker, "attacker", jwt.MapClaims{
		"iss": dev.Issuer(), "aud": dev.Audience(), "sub": "prov_tx_md", "exp": time.Now().Add(time.Hour).Unix(),
	})
	if _, err := v.Verify(context.Background(), forged); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("forged: %v", err)
	}
}
