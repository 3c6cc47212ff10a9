package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goodfaith/goodfaith/internal/clock"
)

func TestDevIssuerCreatesKeyOnFirstUse(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "keys") // does not exist yet
	d, err := NewDevIssuer(DevIssuerConfig{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, DevIssuerKeyFile)
	if d.KeyPath() != path {
		t.Errorf("KeyPath = %s", d.KeyPath())
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", st.Mode().Perm())
	}
	raw, _ := os.ReadFile(path)
	block, rest := pem.Decode(raw)
	if block == nil || block.Type != "PRIVATE KEY" || len(strings.TrimSpace(string(rest))) != 0 {
		t.Fatalf("not a single PEM PKCS#8 block: %q", raw)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok || ec.Curve != elliptic.P256() {
		t.Fatalf("key is %T", k)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the key", len(entries))
	}
	if d.Issuer() != DefaultDevIssuer || d.Audience() != DefaultDevAudience {
		t.Errorf("defaults: %s %s", d.Issuer(), d.Audience())
	}

	// The second start reuses the key.
	again, err := NewDevIssuer(DevIssuerConfig{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if again.KeyID() != d.KeyID() || d.KeyID() == "" {
		t.Fatalf("kid changed across loads: %s vs %s", d.KeyID(), again.KeyID())
	}
}

func TestDevIssuerMintVerify(t *testing.T) {
	clk := clock.NewFake(t0)
	d, err := NewDevIssuer(DevIssuerConfig{Dir: t.TempDir(), Issuer: "http://127.0.0.1:8080", Audience: "goodfaith-console", Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	set := d.JWKS()
	if len(set.Keys) != 1 || set.Keys[0].Kid != d.KeyID() || set.Keys[0].Alg != "ES256" || set.Keys[0].Use != "sig" {
		t.Fatalf("JWKS = %+v", set)
	}
	// A verifier built by hand from the JWKS, as the brief's contract says.
	keys, err := NewStaticKeys(set)
	if err != nil {
		t.Fatal(err)
	}
	v := &ProviderVerifier{Issuer: "http://127.0.0.1:8080", Audience: "goodfaith-console", Keys: keys, Clock: clk}
	own, err := d.Verifier()
	if err != nil {
		t.Fatal(err)
	}

	tok, err := d.Mint("prov_tx_md", 0)
	if err != nil {
		t.Fatal(err)
	}
	for name, ver := range map[string]*ProviderVerifier{"static": v, "Verifier()": own} {
		p, err := ver.Verify(context.Background(), tok)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if p != (Principal{Role: RoleProvider, ProviderID: "prov_tx_md"}) {
			t.Fatalf("%s: principal = %+v", name, p)
		}
	}
	var h, c map[string]any
	parts := strings.Split(tok, ".")
	decodeSegment(t, parts[0], &h)
	decodeSegment(t, parts[1], &c)
	if h["alg"] != "ES256" || h["kid"] != d.KeyID() {
		t.Errorf("header = %v", h)
	}
	if c["exp"] != float64(t0.Add(DefaultDevTokenTTL).Unix()) || c["sub"] != "prov_tx_md" || c[ProviderIDClaim] != "prov_tx_md" || c["jti"] == "" {
		t.Errorf("claims = %v", c)
	}

	// Default TTL is an hour.
	clk.Advance(DefaultDevTokenTTL + Leeway)
	if _, err := v.Verify(context.Background(), tok); !errors.Is(err, ErrExpiredToken) {
		t.Fatalf("after TTL: %v", err)
	}
	// A patient verifier never takes a dev provider token.
	pt, err := NewPatientTokens(testPatientSecret, "http://127.0.0.1:8080", 0, clk)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pt.Verify(tok); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("patient verifier: %v", err)
	}
}

func TestDevIssuerTokensDoNotCross(t *testing.T) {
	a, err := NewDevIssuer(DevIssuerConfig{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewDevIssuer(DevIssuerConfig{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if a.KeyID() == b.KeyID() {
		t.Fatal("two directories share a key")
	}
	tok, err := a.Mint("prov_1", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	vb, err := b.Verifier()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vb.Verify(context.Background(), tok); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("b verified a's token: %v", err)
	}
	// Same key id, other audience.
	other, err := NewDevIssuer(DevIssuerConfig{Dir: filepath.Dir(a.KeyPath()), Audience: "elsewhere"})
	if err != nil {
		t.Fatal(err)
	}
	vo, err := other.Verifier()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vo.Verify(context.Background(), tok); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("other audience: %v", err)
	}
}

func TestDevIssuerMintRejects(t *testing.T) {
	d, err := NewDevIssuer(DevIssuerConfig{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"", "a b", "x\x00", strings.Repeat("p", MaxIDLen+1)} {
		if _, err := d.Mint(id, time.Minute); err == nil {
			t.Errorf("Mint(%q) accepted", id)
		}
	}
	if _, err := d.Mint("p", MaxDevTokenTTL+time.Second); err == nil {
		t.Error("TTL over the maximum accepted")
	}
	if _, err := d.Mint("p", MaxDevTokenTTL); err != nil {
		t.Errorf("maximum TTL refused: %v", err)
	}
}

func TestDevIssuerConcurrentFirstUse(t *testing.T) {
	dir := t.TempDir()
	const n = 8
	kids := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			d, err := NewDevIssuer(DevIssuerConfig{Dir: dir})
			errs[i] = err
			if err == nil {
				kids[i] = d.KeyID()
			}
		}(i)
	}
	wg.Wait()
	for i := range kids {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if kids[i] != kids[0] {
			t.Fatalf("starts disagree on the key: %s vs %s", kids[i], kids[0])
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("%d entries left in the directory, want 1", len(entries))
	}
}

func TestDevIssuerRefusesBadKeyFiles(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaDER, _ := x509.MarshalPKCS8PrivateKey(rsaKey)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p384DER, _ := x509.MarshalPKCS8PrivateKey(p384)
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sec1, _ := x509.MarshalECPrivateKey(p256)
	cases := map[string][]byte{
		"garbage":    []byte("not a key"),
		"empty":      nil,
		"RSA key":    pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: rsaDER}),
		"P-384 key":  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p384DER}),
		"SEC1 PEM":   pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}),
		"bad PKCS#8": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2, 3}}),
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, DevIssuerKeyFile), content, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := NewDevIssuer(DevIssuerConfig{Dir: dir}); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	if runtime.GOOS != "windows" {
		t.Run("readable by others", func(t *testing.T) {
			dir := t.TempDir()
			d, err := NewDevIssuer(DevIssuerConfig{Dir: dir})
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(d.KeyPath(), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := NewDevIssuer(DevIssuerConfig{Dir: dir}); err == nil || !strings.Contains(err.Error(), "chmod 600") {
				t.Fatalf("err = %v", err)
			}
		})
	}
	if _, err := NewDevIssuer(DevIssuerConfig{}); err == nil {
		t.Error("empty Dir accepted")
	}
}
