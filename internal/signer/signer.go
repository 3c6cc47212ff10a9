package signer

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"

	"github.com/golang-jwt/jwt/v5"

	"github.com/goodfaith/goodfaith/internal/jwk"
)

// Signer signs SHA-256 digests with a P-256 key.
type Signer interface {
	// KeyID names the key in JWS headers and the JWKS.
	KeyID() string
	// Public is the verification key.
	Public() *ecdsa.PublicKey
	// Sign returns the JWS (IEEE P1363) signature r||s, 64 bytes, of digest.
	Sign(ctx context.Context, digest []byte) ([]byte, error)
}

// FileKey is a P-256 key kept in a PEM file (PKCS#8, mode 0600).
type FileKey struct {
	key *ecdsa.PrivateKey
	kid string
}

var _ Signer = (*FileKey)(nil)

// LoadOrCreateFileKey reads the key at path, creating it on first use.
func LoadOrCreateFileKey(path string) (*FileKey, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return createFileKey(path)
	}
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(raw)
	if block == nil {
		return nil, fmt.Errorf("signer: %s holds no PEM block", path)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("signer: %s: %w", path, err)
	}
	key, ok := parsed.(*ecdsa.PrivateKey)
	if !ok || key.Curve != elliptic.P256() {
		return nil, fmt.Errorf("signer: %s is not a P-256 key", path)
	}
	return newFileKey(key)
}

func createFileKey(path string) (*FileKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	// O_EXCL: two processes starting at once must not both write a key.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return LoadOrCreateFileKey(path)
	}
	if err != nil {
		return nil, err
	}
	if err := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	return newFileKey(key)
}

func newFileKey(key *ecdsa.PrivateKey) (*FileKey, error) {
	kid, err := jwk.Thumbprint(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	return &FileKey{key: key, kid: kid}, nil
}

// KeyID is the key's RFC 7638 thumbprint.
func (k *FileKey) KeyID() string { return k.kid }

// Public returns the public key.
func (k *FileKey) Public() *ecdsa.PublicKey { return &k.key.PublicKey }

// Sign signs digest.
func (k *FileKey) Sign(_ context.Context, digest []byte) ([]byte, error) {
	r, s, err := ecdsa.Sign(rand.Reader, k.key, digest)
	if err != nil {
		return nil, err
	}
	return P1363(r, s), nil
}

// P1363 encodes r and s as the fixed-width 64-byte signature JWS uses.
func P1363(r, s *big.Int) []byte {
	out := make([]byte, 64)
	r.FillBytes(out[:32])
	s.FillBytes(out[32:])
	return out
}

// method adapts a Signer to jwt.SigningMethod for one signing call. It is
// deliberately not registered with jwt.RegisterSigningMethod.
type method struct {
	ctx    context.Context
	signer Signer
}

func (m *method) Alg() string { return "ES256" }

func (m *method) Verify(string, []byte, any) error {
	return errors.New("signer: this method only signs; verify with jwt.SigningMethodES256")
}

func (m *method) Sign(signingString string, _ any) ([]byte, error) {
	digest := sha256.Sum256([]byte(signingString))
	return m.signer.Sign(m.ctx, digest[:])
}

// JWS signs claims as a compact ES256 JWS whose header names the key.
func JWS(ctx context.Context, s Signer, claims jwt.Claims) (string, error) {
	return JWSWithHeader(ctx, s, claims, nil)
}

// JWSWithHeader is JWS with more protected-header members; alg, typ and
// kid cannot be overridden.
func JWSWithHeader(ctx context.Context, s Signer, claims jwt.Claims, extra map[string]any) (string, error) {
	tok := jwt.NewWithClaims(&method{ctx: ctx, signer: s}, claims)
	for k, v := range extra {
		if _, fixed := tok.Header[k]; !fixed && k != "kid" {
			tok.Header[k] = v
		}
	}
	tok.Header["kid"] = s.KeyID()
	return tok.SignedString(nil)
}

// Keyring is the signing key in use and the retired keys that still
// verify old documents.
type Keyring struct {
	Current Signer
	Retired []jwk.Key
}

// JWKS lists the current and retired public keys.
func (k Keyring) JWKS() jwk.Set {
	set := jwk.Set{Keys: []jwk.Key{jwk.FromECDSA(k.Current.Public(), k.Current.KeyID())}}
	set.Keys = append(set.Keys, k.Retired...)
	return set
}
