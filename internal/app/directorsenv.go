package app

import (
	"github.com/goodfaith/goodfaith/internal/auth"
	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/httpapi"
)

// EnvDirectorClientID is the Cognito app client id of the medical
// directors (optional). When set, the director routes
// (/v1/director/clinics/{clinic}/…) accept ID tokens from the providers'
// user pool (same issuer and JWKS) whose aud is this client, from members
// of the medical-directors group (cognito:groups) or carrying goodfaith:role
// = medical_director; the director is goodfaith:director_id, else sub
// (auth.DirectorVerifier). Unset, those routes
// answer 401.
const EnvDirectorClientID = "DIRECTOR_CLIENT_ID"

func directorsFromEnv(getenv func(string) string, issuer string, keys auth.KeySource, clk clock.Clock) httpapi.ProviderVerifier {
	id := getenv(EnvDirectorClientID)
	if id == "" {
		return nil
	}
	return &auth.DirectorVerifier{Issuer: issuer, Audience: id, Keys: keys, Clock: clk}
}
