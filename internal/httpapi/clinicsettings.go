package httpapi

import (
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goodfaith/goodfaith/internal/directory"
	"github.com/goodfaith/goodfaith/internal/fault"
)

// GET/PUT /v1/clinic/settings: what the clinic dashboard's widget settings
// edit — the treatments the widget offers, opening hours and time zone,
// and branding (the primary colour; the widget guards its contrast) — plus
// the embed snippet. Keys, origins and price are not editable here.

func (a *api) clinicSettingsRoutes(mux *http.ServeMux) {
	a.handle(mux, "GET /v1/clinic/settings", a.clinicKey, a.getClinicSettings)
	a.handle(mux, "PUT /v1/clinic/settings", a.clinicKey, a.putClinicSettings)
}

var weekDays = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

var (
	hexColor = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)
	hhmm     = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)
)

type clinicSettings struct {
	Treatments []string            `json:"treatments"`
	Timezone   string              `json:"timezone"`
	Hours      map[string][]string `json:"hours"`
	Branding   map[string]string   `json:"branding"`
}

func (a *api) settingsView(c *call) map[string]any {
	cl := c.clinic
	src := strings.TrimSuffix(a.PublicOrigin, "/") + "/widget/goodfaith.js"
	return map[string]any{
		"clinic":     map[string]any{"id": cl.ID, "name": cl.Name},
		"treatments": nonNil(cl.Treatments),
		"available":  a.Exams.Rules.Categories(),
		"timezone":   cl.Timezone,
		"hours":      nonNilMap(cl.Hours),
		"branding":   nonNilMap(cl.Branding),
		"embed":      `<script src="` + src + `" data-key="` + cl.PublishableKey + `" async></script>`,
	}
}

func (a *api) getClinicSettings(c *call) (reply, error) { return ok(a.settingsView(c)), nil }

func (a *api) putClinicSettings(c *call) (reply, error) {
	var in clinicSettings
	if err := decodeStrict(c.body, &in); err != nil {
		return reply{}, err
	}
	if len(in.Treatments) == 0 {
		return reply{}, fault.Invalid("required", "treatments", "offer at least one treatment")
	}
	seen := map[string]bool{}
	for i, t := range in.Treatments {
		if !a.Exams.Rules.KnownCategory(t) || seen[t] {
			return reply{}, fault.Invalid("unknown_treatment", "treatments["+strconv.Itoa(i)+"]", "not a treatment category, or listed twice")
		}
		seen[t] = true
	}
	if in.Timezone != "" {
		if _, err := time.LoadLocation(in.Timezone); err != nil || strings.Contains(in.Timezone, "..") {
			return reply{}, fault.Invalid("invalid_timezone", "timezone", "use an IANA time zone such as America/Chicago")
		}
	}
	for day, span := range in.Hours {
		f := "hours." + day
		if !slices.Contains(weekDays, day) {
			return reply{}, fault.Invalid("invalid_day", f, "days are mon, tue, wed, thu, fri, sat, sun")
		}
		if len(span) != 2 || !hhmm.MatchString(span[0]) || !hhmm.MatchString(span[1]) {
			return reply{}, fault.Invalid("invalid_hours", f, "give opening and closing times as [\"HH:MM\",\"HH:MM\"]")
		}
		if span[0] >= span[1] {
			return reply{}, fault.Invalid("invalid_hours", f, "closing time must be after opening time")
		}
	}
	for k, v := range in.Branding {
		switch k {
		case "primary_color":
			if !hexColor.MatchString(v) {
				return reply{}, fault.Invalid("invalid_color", "branding.primary_color", "use a colour like #0b5cad")
			}
		default:
			return reply{}, fault.Invalid("unknown_field", "branding."+k, "only primary_color can be set")
		}
	}
	// Only the settings change, on the clinic as stored (never its keys).
	cl, err := a.Directory.UpdateClinic(c.r.Context(), c.clinic.ID, func(cl *directory.Clinic) error {
		cl.Treatments, cl.Timezone, cl.Branding = in.Treatments, in.Timezone, in.Branding
		cl.Hours = in.Hours
		if len(cl.Hours) == 0 {
			cl.Hours = nil // no hours: open at all times
		}
		if err := cl.Validate(a.Exams.Rules); err != nil {
			return fault.Invalid("invalid_settings", "", err.Error())
		}
		return nil
	})
	if err != nil {
		return reply{}, err
	}
	c.clinic = cl
	return ok(a.settingsView(c)), nil
}
