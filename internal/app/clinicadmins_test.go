package app

import (
	"context"
	"testing"

	"github.com/goodfaith/goodfaith/internal/auth"
)

func TestFromEnvClinicAdminsOnlyWithADashboardClient(t *testing.T) {
	env := validEnv(t)
	a, _, err := fromEnv(context.Background(), getenvOf(env))
	if err != nil {
		t.Fatal(err)
	}
	if a.Deps.ClinicAdmins != nil {
		t.Fatal("clinic-admin tokens accepted without DASHBOARD_CLIENT_ID")
	}
	env[EnvDashboardClientID] = "7dashboardclient"
	a, _, err = fromEnv(context.Background(), getenvOf(env))
	if err != nil {
		t.Fatal(err)
	}
	cv, ok := a.Deps.ClinicAdmins.(*auth.ClinicAdminVerifier)
	if !ok || cv.Issuer != env[EnvProviderIssuer] || cv.Audience != "7dashboardclient" || cv.Keys == nil {
		t.Fatalf("clinic admins = %#v", a.Deps.ClinicAdmins)
	}
}
