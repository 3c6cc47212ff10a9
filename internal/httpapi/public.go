package httpapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/goodfaith/goodfaith/internal/auth"
	"github.com/goodfaith/goodfaith/internal/fault"
)

func (a *api) publicRoutes(mux *http.ServeMux) {
	a.handle(mux, "GET /.well-known/jwks.json", anyone, a.jwks)
	a.handle(mux, "POST /v1/psos/verify", anyone, a.verifyPSO)
	a.handle(mux, "GET /v1/psos/revocations", anyone, a.publicRevocations)
	a.handle(mux, "GET /v1/psos/{id}", anyone, a.publicPSOStatus)
}

func (a *api) jwks(*call) (reply, error) { return ok(a.Keyring.JWKS()), nil }

// maxJWSLen bounds a JWS sent for verification (a PSO is a few KiB).
const maxJWSLen = 32 << 10

func (a *api) verifyPSO(c *call) (reply, error) {
	var in struct {
		JWS string `json:"jws"`
	}
	if err := decodeStrict(c.body, &in); err != nil {
		return reply{}, err
	}
	in.JWS = strings.TrimSpace(in.JWS)
	if in.JWS == "" || len(in.JWS) > maxJWSLen {
		return reply{}, fault.Invalid("required", "jws", "send the PSO's compact JWS")
	}
	out, err := a.verification(c, in.JWS)
	if err != nil {
		return reply{}, err
	}
	return ok(out), nil
}

func (a *api) devRoutes(mux *http.ServeMux) {
	a.handle(mux, "POST /dev/token", anyone, a.devToken)
	a.handle(mux, "GET /dev/jwks.json", anyone, func(*call) (reply, error) { return ok(a.DevIssuer.JWKS()), nil })
	a.devOIDCRoutes(mux) // devoidc.go
}

// devToken mints a provider token for a provider that exists (demos and
// tests; only with -dev).
func (a *api) devToken(c *call) (reply, error) {
	var in struct {
		ProviderID string `json:"provider_id"`
	}
	if err := decodeStrict(c.body, &in); err != nil {
		return reply{}, err
	}
	if _, err := a.Directory.Provider(c.r.Context(), in.ProviderID); err != nil {
		return reply{}, fault.Invalid("unknown_provider", "provider_id", "no provider has this id")
	}
	tok, err := a.DevIssuer.Mint(in.ProviderID, auth.DefaultDevTokenTTL)
	if err != nil {
		return reply{}, err
	}
	return ok(map[string]any{"token": tok, "expires_at": a.Clock.Now().Add(auth.DefaultDevTokenTTL).Format(time.RFC3339)}), nil
}
