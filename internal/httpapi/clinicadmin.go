package httpapi

import (
	"errors"

	"github.com/goodfaith/goodfaith/internal/auth"
	"github.com/goodfaith/goodfaith/internal/fault"
)

// clinicAdmin authenticates a clinic-admin JWT (the clinic dashboard's
// sign-in) for clinic routes: the alternative to the clinic's sk_ key. The
// clinic it names must exist; its principal is the clinic's, so every
// clinic route keeps its tenancy checks.
func (a *api) clinicAdmin(c *call, tok string) error {
	p, err := a.ClinicAdmins.Verify(c.r.Context(), tok)
	if err != nil {
		return err
	}
	if p.Role != auth.RoleClinic || p.ClinicID == "" {
		return auth.ErrInvalidToken
	}
	clinic, err := a.Directory.Clinic(c.r.Context(), p.ClinicID)
	if err != nil {
		if errors.Is(err, fault.ErrNotFound) {
			return auth.ErrInvalidToken
		}
		return err
	}
	c.clinic = clinic
	c.principal = auth.Principal{Role: auth.RoleClinic, ClinicID: clinic.ID}
	return nil
}
