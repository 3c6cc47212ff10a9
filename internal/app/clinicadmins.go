package app

import (
	"github.com/goodfaith/goodfaith/internal/auth"
	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/httpapi"
)

// EnvDashboardClientID is the Cognito app client id of the clinic
// dashboard (optional). When set, clinic routes also accept clinic-admin ID
// tokens from the providers' user pool (same issuer and JWKS) whose aud is
// this client, from members of the clinic-admins group, for the clinic in
// their custom:clinic_id (auth.ClinicAdminVerifier), beside the clinic's
// sk_ key. The console and dashboard pages read their own
// issuer and client ids from their config.json (see README).
const EnvDashboardClientID = "DASHBOARD_CLIENT_ID"

func clinicAdminsFromEnv(getenv func(string) string, issuer string, keys auth.KeySource, clk clock.Clock) httpapi.ProviderVerifier {
	id := getenv(EnvDashboardClientID)
	if id == "" {
		return nil
	}
	return &auth.ClinicAdminVerifier{Issuer: issuer, Audience: id, Keys: keys, Clock: clk}
}
