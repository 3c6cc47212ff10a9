package httpapi

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/goodfaith/goodfaith/internal/auth"
	"github.com/goodfaith/goodfaith/internal/exam"
	"github.com/goodfaith/goodfaith/internal/fault"
	"github.com/goodfaith/goodfaith/internal/oversight"
)

// Medical-director oversight (issue 11). Directors call
// /v1/director/clinics/{clinic}/… with their own JWT (auth.DirectorVerifier);
// a clinic they do not direct, and everything in it, answers 404. Clinics
// read why a treatment is not offered, chart-review completion, and record
// adverse events under /v1/clinic/…; the provider holding an exam reads the
// protocols in force to prefill the decision form.

// directorRoutes mounts the director's routes and the clinic's oversight
// routes (called from clinicRoutes).
func (a *api) directorRoutes(mux *http.ServeMux) {
	if a.Oversight == nil {
		return
	}
	const base = "/v1/director/clinics/{clinic}"
	a.handle(mux, "GET /v1/director/clinics", a.directorSelf, a.dirClinics)
	a.handle(mux, "GET "+base+"/products", a.director, a.dirProducts)
	a.handle(mux, "PUT "+base+"/products/{product}", a.director, a.dirSetProduct)
	a.handle(mux, "GET "+base+"/protocols", a.director, a.dirProtocols)
	a.handle(mux, "POST "+base+"/protocols", a.director, a.dirCreateProtocol, idempotent)
	a.handle(mux, "POST "+base+"/protocols/{treatment}/versions/{version}/sign", a.director, a.dirSignProtocol, idempotent)
	a.handle(mux, "GET "+base+"/readiness", a.director, a.dirReadiness)
	a.handle(mux, "PUT "+base+"/readiness/{treatment}", a.director, a.dirAttest)
	a.handle(mux, "POST "+base+"/readiness/{treatment}/revoke", a.director, a.dirRevokeAttestation, idempotent)
	a.handle(mux, "GET "+base+"/settings", a.director, a.dirSettings)
	a.handle(mux, "PUT "+base+"/settings", a.director, a.dirPutSettings)
	a.handle(mux, "GET "+base+"/reviews", a.director, a.dirReviewQueue)
	a.handle(mux, "GET "+base+"/reviews/{exam}", a.director, a.dirReviewExam)
	a.handle(mux, "PUT "+base+"/reviews/{exam}", a.director, a.dirRecordReview)
	a.handle(mux, "GET "+base+"/adverse-events", a.director, a.dirAdverseEvents)
	a.handle(mux, "POST "+base+"/psos/{id}/revoke", a.director, a.dirRevokePSO, idempotent)

	a.handle(mux, "GET /v1/clinic/oversight", a.clinicKey, a.clinicOversight)
	a.handle(mux, "POST /v1/clinic/adverse-events", a.clinicKey, a.clinicRecordAdverseEvent, idempotent)
	a.handle(mux, "GET /v1/clinic/adverse-events", a.clinicKey, a.clinicAdverseEvents)

	if a.DevIssuer != nil {
		a.handle(mux, "POST /dev/director-token", anyone, a.devDirectorToken)
	}
}

// directorProviderRoutes mounts the provider's protocol prefill (called
// from providerRoutes).
func (a *api) directorProviderRoutes(mux *http.ServeMux) {
	if a.Oversight == nil {
		return
	}
	a.handle(mux, "GET /v1/provider/exams/{id}/protocols", a.provider, a.providerProtocols)
}

// directorSelf authenticates a medical director's JWT.
func (a *api) directorSelf(c *call) error {
	if a.Directors == nil {
		return auth.ErrInvalidToken
	}
	tok, err := auth.ParseBearer(c.r.Header.Get("Authorization"))
	if err != nil {
		return err
	}
	p, err := a.Directors.Verify(c.r.Context(), tok)
	if err != nil {
		return err
	}
	c.principal = p
	return nil
}

// director authenticates a medical director's JWT for the {clinic} of the
// path: a clinic they do not direct does not exist for them.
func (a *api) director(c *call) error {
	if err := a.directorSelf(c); err != nil {
		return err
	}
	p := c.principal
	_, clinic, err := a.Oversight.Director(c.r.Context(), p.DirectorID, c.r.PathValue("clinic"))
	if err != nil {
		return err
	}
	p.ClinicID = clinic.ID
	c.principal, c.clinic = p, clinic
	return nil
}

func dirActor(c *call) oversight.Actor {
	return oversight.Actor{ID: c.principal.DirectorID, Role: string(auth.RoleDirector)}
}

func clinicActor(c *call) oversight.Actor {
	return oversight.Actor{ID: c.clinic.ID, Role: string(auth.RoleClinic)}
}

// dirClinics is GET /v1/director/clinics: who the director is and the
// clinics they direct (the dashboard's clinic picker).
func (a *api) dirClinics(c *call) (reply, error) {
	ctx := c.r.Context()
	m, err := a.Directory.Director(ctx, c.principal.DirectorID)
	if errors.Is(err, fault.ErrNotFound) {
		return reply{}, auth.ErrInvalidToken // a token for a director no longer on file
	}
	if err != nil {
		return reply{}, err
	}
	clinics := []map[string]string{}
	for _, id := range m.Clinics {
		cl, err := a.Directory.Clinic(ctx, id)
		if errors.Is(err, fault.ErrNotFound) {
			continue
		}
		if err != nil {
			return reply{}, err
		}
		clinics = append(clinics, map[string]string{"id": cl.ID, "name": cl.Name})
	}
	return ok(map[string]any{"director": map[string]string{"id": m.ID, "name": m.Name, "credential": m.Credential}, "clinics": clinics}), nil
}

func (a *api) dirProducts(c *call) (reply, error) {
	ps, err := a.Oversight.Products(c.r.Context(), dirActor(c), c.clinic.ID)
	if err != nil {
		return reply{}, err
	}
	return ok(map[string]any{"catalog_version": a.Oversight.Catalog.Version, "products": ps}), nil
}

func (a *api) dirSetProduct(c *call) (reply, error) {
	var in oversight.SetProductInput
	if err := decodeStrict(c.body, &in); err != nil {
		return reply{}, err
	}
	p, err := a.Oversight.SetProduct(c.r.Context(), dirActor(c), c.clinic.ID, c.r.PathValue("product"), in)
	if err != nil {
		return reply{}, err
	}
	return ok(map[string]any{"product": p}), nil
}

func (a *api) dirProtocols(c *call) (reply, error) {
	ps, err := a.Oversight.Protocols(c.r.Context(), c.clinic.ID)
	if err != nil {
		return reply{}, err
	}
	return ok(map[string]any{"protocols": ps}), nil
}

func (a *api) dirCreateProtocol(c *call) (reply, error) {
	var in oversight.ProtocolInput
	if err := decodeStrict(c.body, &in); err != nil {
		return reply{}, err
	}
	p, err := a.Oversight.CreateProtocol(c.r.Context(), dirActor(c), c.clinic.ID, in)
	if err != nil {
		return reply{}, err
	}
	return created(map[string]any{"protocol": p}), nil
}

func (a *api) dirSignProtocol(c *call) (reply, error) {
	var in oversight.SignInput
	if err := decodeStrict(c.body, &in); err != nil {
		return reply{}, err
	}
	v, err := strconv.Atoi(c.r.PathValue("version"))
	if err != nil || v < 1 {
		return reply{}, fault.NotFound("protocol_not_found", "no such protocol version")
	}
	p, err := a.Oversight.SignProtocol(c.r.Context(), dirActor(c), c.clinic.ID, c.r.PathValue("treatment"), v, in)
	if err != nil {
		return reply{}, err
	}
	return ok(map[string]any{"protocol": p}), nil
}

func (a *api) dirReadiness(c *call) (reply, error) {
	rs, err := a.Oversight.ReadinessOf(c.r.Context(), c.clinic.ID, a.Clock.Now())
	if err != nil {
		return reply{}, err
	}
	return ok(map[string]any{"readiness": rs, "items": a.Oversight.Readiness.Items, "basis": a.Oversight.Readiness.Basis}), nil
}

func (a *api) dirAttest(c *call) (reply, error) {
	var in oversight.AttestInput
	if err := decodeStrict(c.body, &in); err != nil {
		return reply{}, err
	}
	at, err := a.Oversight.Attest(c.r.Context(), dirActor(c), c.clinic.ID, c.r.PathValue("treatment"), in)
	if err != nil {
		return reply{}, err
	}
	return created(map[string]any{"attestation": at}), nil
}

func (a *api) dirRevokeAttestation(c *call) (reply, error) {
	var in oversight.RevokeInput
	if err := decodeStrict(c.body, &in); err != nil {
		return reply{}, err
	}
	at, err := a.Oversight.RevokeAttestation(c.r.Context(), dirActor(c), c.clinic.ID, c.r.PathValue("treatment"), in)
	if err != nil {
		return reply{}, err
	}
	return ok(map[string]any{"attestation": at}), nil
}

func (a *api) dirSettings(c *call) (reply, error) {
	st, _, err := a.Oversight.SettingsOf(c.r.Context(), c.clinic.ID)
	if err != nil {
		return reply{}, err
	}
	return ok(map[string]any{"settings": st}), nil
}

func (a *api) dirPutSettings(c *call) (reply, error) {
	var in struct {
		ReviewPercent float64 `json:"review_percent"`
	}
	if err := decodeStrict(c.body, &in); err != nil {
		return reply{}, err
	}
	st, err := a.Oversight.PutSettings(c.r.Context(), dirActor(c), c.clinic.ID, oversight.Settings{ReviewPercent: in.ReviewPercent})
	if err != nil {
		return reply{}, err
	}
	return ok(map[string]any{"settings": st}), nil
}

func (a *api) dirReviewQueue(c *call) (reply, error) {
	q, err := a.Oversight.Queue(c.r.Context(), c.clinic.ID)
	if err != nil {
		return reply{}, err
	}
	return ok(q), nil
}

func (a *api) dirReviewExam(c *call) (reply, error) {
	e, r, err := a.Oversight.ReviewExam(c.r.Context(), dirActor(c), c.clinic.ID, c.r.PathValue("exam"))
	if err != nil {
		return reply{}, err
	}
	return ok(map[string]any{"exam": providerExam(e, []exam.Attachment{}), "decision": e.Decision, "review": r}), nil
}

func (a *api) dirRecordReview(c *call) (reply, error) {
	var in oversight.ReviewInput
	if err := decodeStrict(c.body, &in); err != nil {
		return reply{}, err
	}
	r, err := a.Oversight.RecordReview(c.r.Context(), dirActor(c), c.clinic.ID, c.r.PathValue("exam"), in)
	if err != nil {
		return reply{}, err
	}
	return created(map[string]any{"review": r}), nil
}

// adverseEventsReply renders events as JSON, or CSV with ?format=csv.
func adverseEventsReply(c *call, evs []oversight.AdverseEvent) (reply, error) {
	switch c.r.URL.Query().Get("format") {
	case "", "json":
		return ok(map[string]any{"items": evs}), nil
	case "csv":
		return reply{status: http.StatusOK, contentType: "text/csv; charset=utf-8", raw: oversight.AdverseEventsCSV(evs)}, nil
	}
	return reply{}, fault.Invalid("invalid_format", "format", `format must be "json" or "csv"`)
}

func (a *api) dirAdverseEvents(c *call) (reply, error) {
	evs, err := a.Oversight.AdverseEvents(c.r.Context(), dirActor(c), c.clinic.ID)
	if err != nil {
		return reply{}, err
	}
	return adverseEventsReply(c, evs)
}

func (a *api) dirRevokePSO(c *call) (reply, error) {
	var in struct {
		Reason string `json:"reason"`
	}
	if err := decodeStrict(c.body, &in); err != nil {
		return reply{}, err
	}
	rev, err := a.psoRegistry().Revoke(c.r.Context(), c.clinic.ID, c.r.PathValue("id"), c.principal.DirectorID, string(auth.RoleDirector), in.Reason)
	if err != nil {
		return reply{}, err
	}
	return ok(map[string]any{"pso": map[string]any{"id": rev.PSOID, "exam_id": rev.ExamID, "revoked": true, "revocation": revocationOf(&rev)}}), nil
}

// clinicOversight is GET /v1/clinic/oversight: the clinic's directors, why
// each treatment is or is not offered, and chart-review completion.
func (a *api) clinicOversight(c *call) (reply, error) {
	ctx := c.r.Context()
	rs, err := a.Oversight.ReadinessOf(ctx, c.clinic.ID, a.Clock.Now())
	if err != nil {
		return reply{}, err
	}
	dirs, err := a.Directory.ClinicDirectors(ctx, c.clinic.ID)
	if err != nil {
		return reply{}, err
	}
	dv := []map[string]string{}
	for _, d := range dirs {
		dv = append(dv, map[string]string{"id": d.ID, "name": d.Name, "credential": d.Credential})
	}
	q, err := a.Oversight.Queue(ctx, c.clinic.ID)
	if err != nil {
		return reply{}, err
	}
	return ok(map[string]any{"medical_directors": dv, "readiness": rs,
		"chart_review": map[string]any{"review_percent": q.ReviewPercent, "totals": q.Totals, "providers": q.Providers}}), nil
}

func (a *api) clinicRecordAdverseEvent(c *call) (reply, error) {
	var in oversight.AdverseEventInput
	if err := decodeStrict(c.body, &in); err != nil {
		return reply{}, err
	}
	ev, err := a.Oversight.RecordAdverseEvent(c.r.Context(), clinicActor(c), c.clinic.ID, in)
	if err != nil {
		return reply{}, err
	}
	return created(map[string]any{"adverse_event": ev}), nil
}

func (a *api) clinicAdverseEvents(c *call) (reply, error) {
	evs, err := a.Oversight.AdverseEvents(c.r.Context(), clinicActor(c), c.clinic.ID)
	if err != nil {
		return reply{}, err
	}
	return adverseEventsReply(c, evs)
}

// providerProtocols is GET /v1/provider/exams/{id}/protocols: the signed
// protocols in force for the exam's treatments, to prefill the decision
// form; only for the provider holding the exam.
func (a *api) providerProtocols(c *call) (reply, error) {
	e, _, err := a.Exams.ForProvider(c.r.Context(), c.principal.ProviderID, c.r.PathValue("id")) // 404 unless held; audited
	if err != nil {
		return reply{}, err
	}
	ps, err := a.Oversight.ActiveProtocols(c.r.Context(), e.ClinicID, e.Treatments)
	if err != nil {
		return reply{}, err
	}
	prefill := []map[string]any{}
	for _, p := range ps {
		so := p.StandingOrder
		prefill = append(prefill, map[string]any{"treatment": p.Treatment, "product": so.Product, "dose": so.Dose, "route": so.Route,
			"areas": nonNil(so.Areas), "frequency": so.Frequency, "quantity": so.Quantity, "refills": so.Refills, "valid_days": so.ValidDays})
	}
	return ok(map[string]any{"protocols": ps, "orders": prefill}), nil
}

// devDirectorToken mints a director token for a director that exists
// (demos and tests; only with -dev).
func (a *api) devDirectorToken(c *call) (reply, error) {
	var in struct {
		DirectorID string `json:"director_id"`
	}
	if err := decodeStrict(c.body, &in); err != nil {
		return reply{}, err
	}
	if _, err := a.Directory.Director(c.r.Context(), in.DirectorID); err != nil {
		if errors.Is(err, fault.ErrNotFound) {
			return reply{}, fault.Invalid("unknown_director", "director_id", "no medical director has this id")
		}
		return reply{}, err
	}
	tok, err := a.DevIssuer.MintDirector(in.DirectorID, auth.DefaultDevTokenTTL)
	if err != nil {
		return reply{}, err
	}
	return ok(map[string]any{"token": tok, "expires_at": a.Clock.Now().Add(auth.DefaultDevTokenTTL).Format(time.RFC3339)}), nil
}

// offeredOnly drops from the caller's clinic the treatments its emergency
// readiness does not allow now, so the widget does not offer them (the
// clinic reads why at GET /v1/clinic/oversight).
func (a *api) offeredOnly(c *call, now time.Time) error {
	if a.Oversight == nil {
		return nil
	}
	ts, err := a.Oversight.OfferedTreatments(c.r.Context(), c.clinic.ID, c.clinic.Treatments, now)
	if err != nil {
		return err
	}
	c.clinic.Treatments = ts
	return nil
}
