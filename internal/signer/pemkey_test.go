package signer

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func pkcs8PEM(t *testing.T, key any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func TestParseFileKeyPEMReadsWhatTheFileKeyWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key.pem")
	onDisk, err := LoadOrCreateFileKey(path)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParseFileKeyPEM(raw)
	if err != nil {
		t.Fatalf("ParseFileKeyPEM: %v", err)
	}
	if k.KeyID() != onDisk.KeyID() || !k.Public().Equal(onDisk.Public()) {
		t.Fatal("the parsed key differs from the key file's")
	}
	digest := sha256.Sum256([]byte("pso"))
	sig, err := k.Sign(context.Background(), digest[:])
	if err != nil || len(sig) != 64 {
		t.Fatalf("Sign = %d bytes, %v", len(sig), err)
	}
}

func TestParseFileKeyPEMRefusesOtherKeys(t *testing.T) {
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sec1, err := x509.MarshalECPrivateKey(p256)
	if err != nil {
		t.Fatal(err)
	}
	good := pkcs8PEM(t, p256)
	cases := map[string][]byte{
		"empty":            nil,
		"not PEM":          []byte("-----BEGIN nothing"),
		"P-384":            pkcs8PEM(t, p384),
		"RSA":              pkcs8PEM(t, rsaKey),
		"SEC1 EC block":    pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}),
		"garbage in block": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("not DER")}),
		"two blocks":       append(append([]byte{}, good...), good...),
	}
	for name, in := range cases {
		k, err := ParseFileKeyPEM(in)
		if err == nil {
			t.Errorf("%s: accepted as key %s", name, k.KeyID())
			continue
		}
		if block, _ := pem.Decode(in); block != nil && len(block.Bytes) > 8 && strings.Contains(err.Error(), string(block.Bytes[:8])) {
			t.Errorf("%s: error quotes key material: %v", name, err)
		}
	}
}
