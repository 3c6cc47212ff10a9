package seedtest

import "testing"

func TestE2ESeedHasTheClinicsTestsUse(t *testing.T) {
	seed := E2E(t)
	if len(seed.Clinics) < 4 || len(seed.Providers) == 0 {
		t.Fatalf("seed has %d clinics and %d providers; the tests use clinics a to d and their providers", len(seed.Clinics), len(seed.Providers))
	}
}
