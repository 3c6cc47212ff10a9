package signer

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

func TestFileKeyIsCreatedOnceWithPrivateMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k", "key.pem")
	a, err := LoadOrCreateFileKey(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v %v", st.Mode(), err)
	}
	b, err := LoadOrCreateFileKey(path)
	if err != nil || b.KeyID() != a.KeyID() || !b.Public().Equal(a.Public()) {
		t.Fatalf("reload gave another key: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.pem")
	if err := os.WriteFile(bad, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateFileKey(bad); err == nil {
		t.Fatal("a file without a PEM key was accepted")
	}
}

func TestJWSVerifiesWithStockES256(t *testing.T) {
	key, err := LoadOrCreateFileKey(filepath.Join(t.TempDir(), "key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	jws, err := JWS(context.Background(), key, jwt.MapClaims{"hello": "world"})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Parse(jws, func(tok *jwt.Token) (any, error) {
		if tok.Header["kid"] != key.KeyID() {
			t.Fatalf("kid = %v", tok.Header["kid"])
		}
		return key.Public(), nil
	}, jwt.WithValidMethods([]string{"ES256"}))
	if err != nil || tok.Method != jwt.SigningMethodES256 {
		t.Fatalf("stock ES256 rejected our JWS: %v (method %v)", err, tok.Method)
	}
	// Our signing method is never registered: the library still resolves
	// ES256 to its own implementation.
	if jwt.GetSigningMethod("ES256") != jwt.SigningMethodES256 {
		t.Fatal("ES256 was hijacked")
	}
}
