package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/jwk"
)

// DevIssuerKeyFile is the name of the dev issuer's key file in its directory.
const DevIssuerKeyFile = "dev-issuer-key.pem"

// Defaults of DevIssuerConfig.
const (
	DefaultDevIssuer   = "http://127.0.0.1:8080/dev"
	DefaultDevAudience = "goodfaith-dev"
	DefaultDevTokenTTL = time.Hour
	MaxDevTokenTTL     = 24 * time.Hour
)

// DevIssuerConfig configures NewDevIssuer.
type DevIssuerConfig struct {
	// Dir holds the key file DevIssuerKeyFile. It is created (0700) if
	// missing, and the key (0600, PEM PKCS#8, ECDSA P-256) on first use.
	Dir string
	// Issuer is the iss of minted tokens. Default DefaultDevIssuer.
	Issuer string
	// Audience is the aud of minted tokens. Default DefaultDevAudience.
	Audience string
	// Clock is the time source. Default: the system clock.
	Clock clock.Clock
}

// DevIssuer is the identity provider stand-in of the local server's -dev
// mode and of tests: it mints ES256 provider tokens that ProviderVerifier
// accepts with a StaticKeys built from JWKS. It is safe for concurrent use.
type DevIssuer struct {
	key      *ecdsa.PrivateKey
	kid      string
	issuer   string
	audience string
	clock    clock.Clock
	path     string
}

// NewDevIssuer loads the dev issuer key from cfg.Dir, creating it first if
// there is none. A key file readable by group or others is refused (except
// on Windows, where permission bits mean little).
func NewDevIssuer(cfg DevIssuerConfig) (*DevIssuer, error) {
	if cfg.Dir == "" {
		return nil, errors.New("auth: dev issuer needs a directory")
	}
	if cfg.Issuer == "" {
		cfg.Issuer = DefaultDevIssuer
	}
	if cfg.Audience == "" {
		cfg.Audience = DefaultDevAudience
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.System{}
	}
	path := filepath.Join(cfg.Dir, DevIssuerKeyFile)
	key, err := loadOrCreateKey(path)
	if err != nil {
		return nil, err
	}
	kid, err := jwk.Thumbprint(&key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("auth: dev issuer key: %w", err)
	}
	return &DevIssuer{
		key:      key,
		kid:      kid,
		issuer:   cfg.Issuer,
		audience: cfg.Audience,
		clock:    cfg.Clock,
		path:     path,
	}, nil
}

// Issuer is the iss of the tokens d mints.
func (d *DevIssuer) Issuer() string { return d.issuer }

// Audience is the aud of the tokens d mints.
func (d *DevIssuer) Audience() string { return d.audience }

// KeyID is the kid of d's key: its RFC 7638 thumbprint.
func (d *DevIssuer) KeyID() string { return d.kid }

// KeyPath is the file d's key lives in.
func (d *DevIssuer) KeyPath() string { return d.path }

// JWKS returns the public key set that verifies d's tokens.
func (d *DevIssuer) JWKS() jwk.Set {
	return jwk.Set{Keys: []jwk.Key{jwk.FromECDSA(&d.key.PublicKey, d.kid)}}
}

// Verifier returns a ProviderVerifier that accepts d's tokens, with a
// StaticKeys over JWKS and d's clock.
func (d *DevIssuer) Verifier() (*ProviderVerifier, error) {
	keys, err := NewStaticKeys(d.JWKS())
	if err != nil {
		return nil, err
	}
	return &ProviderVerifier{Issuer: d.issuer, Audience: d.audience, Keys: keys, Clock: d.clock}, nil
}

// Mint returns a provider token for providerID valid for ttl
// (DefaultDevTokenTTL when zero or less, at most MaxDevTokenTTL). It carries
// sub and goodfaith:provider_id = providerID, iss, aud, iat, nbf, exp and a
// random jti, with kid in the header.
func (d *DevIssuer) Mint(providerID string, ttl time.Duration) (string, error) {
	if !validID(providerID) {
		return "", errors.New("auth: invalid provider id")
	}
	if ttl <= 0 {
		ttl = DefaultDevTokenTTL
	}
	if ttl > MaxDevTokenTTL {
		return "", fmt.Errorf("auth: dev token TTL %v is over %v", ttl, MaxDevTokenTTL)
	}
	jti, err := randomString(16)
	if err != nil {
		return "", err
	}
	now := d.clock.Now()
	claims := jwt.MapClaims{
		"iss":           d.issuer,
		"aud":           d.audience,
		"sub":           providerID,
		ProviderIDClaim: providerID,
		"iat":           jwt.NewNumericDate(now),
		"nbf":           jwt.NewNumericDate(now),
		"exp":           jwt.NewNumericDate(now.Add(ttl)),
		"jti":           jti,
	}
	t := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	t.Header["kid"] = d.kid
	s, err := t.SignedString(d.key)
	if err != nil {
		return "", fmt.Errorf("auth: sign dev token: %w", err)
	}
	return s, nil
}

// loadOrCreateKey reads the P-256 key at path, or creates it. Creation
// writes a temporary file and hard-links it into place, so two processes
// starting at once agree on one key and no reader sees a partial file.
func loadOrCreateKey(path string) (*ecdsa.PrivateKey, error) {
	key, err := loadKey(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("auth: dev issuer key directory: %w", err)
	}
	key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("auth: generate dev issuer key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("auth: encode dev issuer key: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".dev-issuer-key-*") // 0600
	if err != nil {
		return nil, fmt.Errorf("auth: write dev issuer key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := pem.Encode(tmp, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("auth: write dev issuer key: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("auth: write dev issuer key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("auth: write dev issuer key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return loadKey(path) // another process won the race
		}
		return nil, fmt.Errorf("auth: write dev issuer key: %w", err)
	}
	return key, nil
}

// loadKey reads a PEM PKCS#8 ECDSA P-256 private key. The error wraps
// fs.ErrNotExist when there is no file.
func loadKey(path string) (*ecdsa.PrivateKey, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("auth: read dev issuer key: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("auth: read dev issuer key: %w", err)
	}
	if runtime.GOOS != "windows" && st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("auth: dev issuer key %s is accessible by others (mode %v); chmod 600 it", path, st.Mode().Perm())
	}
	buf, err := io.ReadAll(io.LimitReader(f, 16<<10))
	if err != nil {
		return nil, fmt.Errorf("auth: read dev issuer key: %w", err)
	}
	block, _ := pem.Decode(buf)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("auth: dev issuer key %s is not a PEM PKCS#8 private key", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("auth: dev issuer key %s: %w", path, err)
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, fmt.Errorf("auth: dev issuer key %s is not ECDSA P-256", path)
	}
	return ec, nil
}
