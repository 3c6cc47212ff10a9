package httpapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/goodfaith/goodfaith/internal/auth"
	"github.com/goodfaith/goodfaith/internal/exam"
	"github.com/goodfaith/goodfaith/internal/fault"
	"github.com/goodfaith/goodfaith/internal/ice"
	"github.com/goodfaith/goodfaith/internal/parallel"
	"github.com/goodfaith/goodfaith/internal/questionnaire"
	"github.com/goodfaith/goodfaith/internal/rules"
)

func (a *api) patientRoutes(mux *http.ServeMux) {
	// Every widget load consults the rules and the questionnaires, which
	// are parsed on first use (a few ms): parse them now, in the
	// background, so that a cold start's first widget config finds them
	// ready while it waits on its store reads.
	go a.Exams.Rules.Preload()
	go a.Exams.Questionnaires.Preload()
	a.handle(mux, "GET /v1/widget/config", a.widgetKeyOrPatient, a.widgetConfig)
	a.handle(mux, "POST /v1/exams", a.widgetKey, a.createExam, idempotent)
	a.handle(mux, "GET /v1/exams/{id}", a.patient, a.getExam)
	a.handle(mux, "PUT /v1/exams/{id}/intake", a.patient, a.putIntake)
	a.handle(mux, "POST /v1/exams/{id}/submit", a.patient, a.submitExam, idempotent)
	a.handle(mux, "POST /v1/exams/{id}/attachments", a.patient, a.addAttachment, idempotent)
	a.handle(mux, "POST /v1/exams/{id}/cancel", a.patient, a.cancelExam, idempotent)
	a.handle(mux, "GET /v1/ice-servers", a.patientOrProvider, a.iceServers)
}

// widgetKeyOrPatient authenticates the widget config: by the clinic's
// publishable key (the embedded widget), or by a patient token (an invite
// link, opened on our own origin with no key at hand), for the token's
// clinic.
func (a *api) widgetKeyOrPatient(c *call) error {
	if c.r.Header.Get("X-Goodfaith-Key") != "" || c.r.Header.Get("Authorization") == "" {
		return a.widgetKey(c)
	}
	if err := a.patient(c); err != nil {
		return err
	}
	clinic, err := a.Directory.Clinic(c.r.Context(), c.principal.ClinicID)
	if errors.Is(err, fault.ErrNotFound) {
		return auth.ErrInvalidToken
	}
	if err != nil {
		return err
	}
	c.clinic = clinic
	return nil
}

// ruleView is what the rules require for one treatment in one state, after
// the clinic's tightenings: the widget offers only these modalities and
// asks for photos up front when async needs them.
type ruleView struct {
	Modalities          []rules.Modality `json:"modalities"`
	AsyncRequiresPhotos bool             `json:"async_requires_photos"`
}

type treatmentView struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Category string `json:"category"`
}

func (a *api) widgetConfig(c *call) (reply, error) {
	rs := a.Exams.Rules
	now := a.Clock.Now()
	// The config's first reads do not depend on each other, so they go at
	// once: a widget load waits one round trip for them instead of several
	// in a row. The emergency readiness (director.go) narrows
	// c.clinic.Treatments, which the others do not read; the clinic's
	// tightenings are in clinicrules.go; the provider index is the one
	// a.offer and the wait estimate use (wait.go).
	var ovs rules.Overrides
	err := parallel.Do(c.r.Context(),
		func(context.Context) error { return a.offeredOnly(c, now) },
		func(context.Context) (err error) {
			ovs, err = a.clinicOverrides(c)
			return err
		},
		a.Exams.ReadNetwork,
	)
	if err != nil {
		return reply{}, err
	}
	treatments := []treatmentView{}
	qs := map[string]questionnaire.Questionnaire{}
	for _, t := range c.clinic.Treatments {
		treatments = append(treatments, treatmentView{ID: t, Name: rs.CategoryName(t), Category: t})
		if q, ok := a.Exams.Questionnaires.For(t); ok {
			qs[t] = q
		}
	}
	// A state is offered when at least one of the clinic's treatments may be
	// examined there today; rules[state][treatment] says how.
	states := []string{}
	byState := map[string]map[string]ruleView{}
	offered := map[string]map[string]rules.Exam{} // for the wait estimate (wait.go)
	for _, st := range rs.States() {
		per := map[string]ruleView{}
		for _, t := range c.clinic.Treatments {
			if ex, err := rs.ForClinicExam(st, []string{t}, now, ovs); err == nil {
				// Only where a provider in the network may take it (wait.go).
				if served, err := a.offer(c, offered, st, t, ex); err != nil {
					return reply{}, err
				} else if served {
					per[t] = ruleView{Modalities: ex.Modalities, AsyncRequiresPhotos: ex.AsyncRequiresPhotos}
				}
			}
		}
		if len(per) > 0 {
			states = append(states, st)
			byState[st] = per
		}
	}
	hoursView, err := a.hoursView(c)
	if err != nil {
		return reply{}, err
	}
	expectedWait, err := a.expectedWaitView(c, offered, hoursView["video_available"] == true)
	if err != nil {
		return reply{}, err
	}
	languages := c.clinic.Languages
	if len(languages) == 0 {
		languages = []string{"en", "es"}
	}
	return ok(map[string]any{
		"clinic":         map[string]any{"id": c.clinic.ID, "name": c.clinic.Name, "branding": nonNilMap(c.clinic.Branding)},
		"treatments":     treatments,
		"states":         states,
		"rules":          byState,
		"questionnaires": qs,
		"hours":          hoursView,
		"languages":      languages,
		"expected_wait":  expectedWait,
	}), nil
}

func (a *api) createExam(c *call) (reply, error) {
	var in exam.CreateInput
	if err := decodeStrict(c.body, &in); err != nil {
		return reply{}, err
	}
	e, err := a.Exams.Create(c.r.Context(), c.clinic, in)
	if err != nil {
		return reply{}, err
	}
	tok, expires, err := a.PatientTokens.Issue(e.ID, e.ClinicID)
	if err != nil {
		return reply{}, err
	}
	return created(map[string]any{"exam": patientExam(e), "patient_token": tok, "patient_token_expires_at": expires}), nil
}

func (a *api) getExam(c *call) (reply, error) {
	e, err := a.Exams.ForPatient(c.r.Context(), c.principal.ExamID)
	if err != nil {
		return reply{}, err
	}
	return ok(map[string]any{"exam": patientExam(e)}), nil
}

func (a *api) putIntake(c *call) (reply, error) {
	var in exam.IntakeInput
	if err := decodeStrict(c.body, &in); err != nil {
		return reply{}, err
	}
	e, err := a.Exams.Intake(c.r.Context(), c.principal.ExamID, in)
	if err != nil {
		return reply{}, err
	}
	return ok(map[string]any{"exam": patientExam(e)}), nil
}

func (a *api) submitExam(c *call) (reply, error) {
	e, err := a.Exams.Submit(c.r.Context(), c.principal.ExamID)
	if err != nil {
		return reply{}, err
	}
	return reply{status: http.StatusAccepted, body: map[string]any{"exam": patientExam(e)}}, nil
}

func (a *api) addAttachment(c *call) (reply, error) {
	var in exam.AttachmentInput
	if err := decodeStrict(c.body, &in); err != nil {
		return reply{}, err
	}
	att, upload, err := a.Exams.AddAttachment(c.r.Context(), c.principal.ExamID, in)
	if err != nil {
		return reply{}, err
	}
	headers := map[string]string{}
	for k := range upload.Headers {
		headers[k] = upload.Headers.Get(k)
	}
	return created(map[string]any{
		"attachment_id": att.ID, "upload_url": upload.URL, "method": upload.Method,
		"headers": headers, "expires_at": upload.ExpiresAt,
	}), nil
}

func (a *api) cancelExam(c *call) (reply, error) {
	e, err := a.Exams.Cancel(c.r.Context(), c.principal.ExamID, c.principal.ExamID, exam.RolePatient)
	if err != nil {
		return reply{}, err
	}
	return ok(map[string]any{"exam": patientExam(e)}), nil
}

func (a *api) iceServers(c *call) (reply, error) {
	if a.ICE != nil {
		servers, expires := a.ICE.Servers(ice.UserFor(string(c.principal.Role), c.principal.ExamID+c.principal.ProviderID))
		return ok(map[string]any{"ice_servers": servers, "expires_at": expires}), nil
	}
	return ok(map[string]any{"ice_servers": nonNil(a.ICEServers), "expires_at": a.Clock.Now().Add(iceCredentialTTL)}), nil
}

// iceCredentialTTL is how long ICE server credentials are good for.
const iceCredentialTTL = time.Hour
