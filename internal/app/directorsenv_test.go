package app

import (
	"testing"

	"github.com/goodfaith/goodfaith/internal/auth"
)

func TestDirectorsFromEnv(t *testing.T) {
	keys, err := auth.NewStaticKeys(mustDevIssuer(t).JWKS())
	if err != nil {
		t.Fatal(err)
	}
	if v := directorsFromEnv(func(string) string { return "" }, "https://issuer", keys, nil); v != nil {
		t.Fatalf("without %s: %v", EnvDirectorClientID, v)
	}
	v := directorsFromEnv(func(k string) string { return map[string]string{EnvDirectorClientID: "dirclient"}[k] }, "https://issuer", keys, nil)
	dv, ok := v.(*auth.DirectorVerifier)
	if !ok || dv.Audience != "dirclient" || dv.Issuer != "https://issuer" {
		t.Fatalf("verifier: %#v", v)
	}
}

func mustDevIssuer(t *testing.T) *auth.DevIssuer {
	t.Helper()
	d, err := auth.NewDevIssuer(auth.DevIssuerConfig{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return d
}
