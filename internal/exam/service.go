package exam

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/goodfaith/goodfaith/internal/audit"
	"github.com/goodfaith/goodfaith/internal/blob"
	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/directory"
	"github.com/goodfaith/goodfaith/internal/fault"
	"github.com/goodfaith/goodfaith/internal/ids"
	"github.com/goodfaith/goodfaith/internal/pso"
	"github.com/goodfaith/goodfaith/internal/questionnaire"
	"github.com/goodfaith/goodfaith/internal/routing"
	"github.com/goodfaith/goodfaith/internal/rules"
	"github.com/goodfaith/goodfaith/internal/store"
)

// Roles recorded in audit records.
const (
	RolePatient  = "patient"
	RoleProvider = "provider"
	RoleClinic   = "clinic"
	RoleSystem   = "system"
)

// Attachment limits.
const (
	MaxAttachmentBytes = 10 << 20
	MaxAttachments     = 10
	uploadURLTTL       = 15 * time.Minute
	decisionLockTTL    = time.Minute
)

var attachmentTypes = []string{"image/jpeg", "image/png", "image/heic"}

// Service runs the exam use cases over the ports.
type Service struct {
	Store          store.Store
	Blobs          blob.Store
	Directory      directory.Directory
	Rules          *rules.Set
	Questionnaires *questionnaire.Set
	PSOs           pso.Issuer
	Clock          clock.Clock
	IDs            ids.Generator
	Policy         *QueuePolicy // queue timings and claim limit; nil: DefaultQueuePolicy (sla.go)
	Oversight      Oversight    // the medical director's checks; nil: none (oversight.go)

	served servedCache // the network's provider index for "state not served" (served.go)
}

func (s *Service) now() time.Time { return s.Clock.Now().UTC() }

func (s *Service) audit(actor, role, action, examID string, now time.Time) audit.Record {
	return audit.Record{ID: s.IDs.New("aud"), At: now, Actor: actor, Role: role, Action: action, ExamID: examID}
}

// auditRead records a read of an exam's PHI.
func (s *Service) auditRead(ctx context.Context, actor, role, action, examID string) error {
	return audit.Append(ctx, s.Store, s.audit(actor, role, action, examID, s.now()))
}

// ---- patient ----

// Create starts a draft exam for a clinic's patient.
func (s *Service) Create(ctx context.Context, clinic directory.Clinic, in CreateInput) (Exam, error) {
	now := s.now()
	if err := validatePatient(in.Patient, now); err != nil {
		return Exam{}, err
	}
	if !s.Rules.KnownState(in.Patient.State) {
		return Exam{}, fault.Invalid("state_not_served", "patient.state", fmt.Sprintf("%q is not a US state (two-letter USPS code) we serve", in.Patient.State))
	}
	if len(in.Treatments) == 0 || len(in.Treatments) > 7 {
		return Exam{}, fault.Invalid("treatments_required", "treatments", "choose one to seven treatments")
	}
	for i, t := range in.Treatments {
		field := fmt.Sprintf("treatments[%d]", i)
		if !s.Rules.KnownCategory(t) {
			return Exam{}, fault.Invalid("treatment_unknown", field, fmt.Sprintf("%q is not a treatment category", t))
		}
		if slices.Contains(in.Treatments[:i], t) {
			return Exam{}, fault.Invalid("duplicate_treatment", field, "a treatment is listed twice")
		}
		if !clinic.Offers(t) {
			return Exam{}, fault.Invalid("treatment_not_offered", field, "this clinic does not offer "+s.Rules.CategoryName(t))
		}
	}
	if s.Oversight != nil {
		if err := s.Oversight.CheckTreatments(ctx, clinic.ID, in.Treatments, now, PatientReader); err != nil {
			return Exam{}, err
		}
	}
	rule, err := s.ruleFor(ctx, clinic.ID, in.Patient.State, in.Treatments, now)
	if err != nil {
		return Exam{}, err
	}
	if err := s.checkServed(ctx, in.Patient.State, in.Treatments, rule); err != nil {
		return Exam{}, err
	}
	allowed := modalityStrings(rule.Modalities)
	if in.Modality == "" {
		in.Modality = allowed[len(allowed)-1] // async when allowed: no waiting room needed
	}
	if err := checkModality(in.Modality, allowed); err != nil {
		return Exam{}, err
	}
	if err := checkHours(clinic, in.Modality, now); err != nil {
		return Exam{}, err
	}
	e := Exam{
		ID: s.IDs.New("exam"), ClinicID: clinic.ID, Status: Draft, Patient: in.Patient, State: in.Patient.State,
		Treatments: in.Treatments, Modality: in.Modality, ModalitiesAllowed: allowed,
		CreatedAt: now, UpdatedAt: now, History: []Transition{},
	}
	e.Patient.FirstName, e.Patient.LastName = strings.TrimSpace(e.Patient.FirstName), strings.TrimSpace(e.Patient.LastName)
	if err := commit(ctx, s.Store, e.createOp(), s.audit(e.ID, RolePatient, "exam.create", e.ID, now).Op()); err != nil {
		return Exam{}, err
	}
	e.version = 1
	return e, nil
}

func modalityStrings(ms []rules.Modality) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = string(m)
	}
	return out
}

func checkModality(m string, allowed []string) error {
	if m != string(rules.Async) && m != string(rules.Video) {
		return fault.Invalid("invalid_modality", "modality", `modality must be "async" or "video"`)
	}
	if !slices.Contains(allowed, m) {
		return &fault.Error{Kind: fault.ErrInvalid, Code: "modality_not_allowed", Field: "modality",
			Message: "this modality is not allowed for this state and treatment", Details: map[string]any{"modalities_allowed": allowed}}
	}
	return nil
}

// ForPatient reads the exam a patient token is bound to.
func (s *Service) ForPatient(ctx context.Context, examID string) (Exam, error) {
	e, err := load(ctx, s.Store, examID)
	if err != nil {
		return Exam{}, err
	}
	return e, s.auditRead(ctx, examID, RolePatient, "exam.read", examID)
}

// Intake records answers, consents, modality and attachments of a draft.
func (s *Service) Intake(ctx context.Context, examID string, in IntakeInput) (Exam, error) {
	e, err := load(ctx, s.Store, examID)
	if err != nil {
		return Exam{}, err
	}
	if e.Status != Draft {
		return Exam{}, fault.Conflict("already_submitted", "the intake cannot change once the exam is submitted")
	}
	now := s.now()
	next := e
	next.UpdatedAt = now
	if in.Answers != nil {
		if len(in.Answers) > 200 {
			return Exam{}, fault.Invalid("too_many", "answers", "too many answers")
		}
		form := s.Questionnaires.FormFor(e.Treatments)
		parsed, err := form.Parse(in.Answers)
		if err != nil {
			return Exam{}, err
		}
		if err := s.checkAttachments(ctx, e.ID, form.AttachmentIDs(parsed), "answers"); err != nil {
			return Exam{}, err
		}
		next.Answers = in.Answers
	}
	if in.Consents != nil {
		next.Consents = *in.Consents
	}
	if in.Modality != "" {
		if err := checkModality(in.Modality, e.ModalitiesAllowed); err != nil {
			return Exam{}, err
		}
		next.Modality = in.Modality
	}
	if in.Attachments != nil {
		if err := s.checkAttachments(ctx, e.ID, in.Attachments, "attachments"); err != nil {
			return Exam{}, err
		}
		next.Attachments = slices.Compact(slices.Sorted(slices.Values(in.Attachments)))
	}
	if err := commit(ctx, s.Store, updateOp(e, next), s.audit(e.ID, RolePatient, "exam.intake", e.ID, now).Op()); err != nil {
		return Exam{}, err
	}
	next.version = e.version + 1
	return next, nil
}

// checkAttachments verifies each id names an attachment of this exam.
func (s *Service) checkAttachments(ctx context.Context, examID string, attIDs []string, field string) error {
	if len(attIDs) > MaxAttachments {
		return fault.Invalid("too_many", field, fmt.Sprintf("at most %d attachments", MaxAttachments))
	}
	for _, id := range attIDs {
		if _, err := s.Store.Get(ctx, attachmentKey(examID, id)); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return fault.Invalid("unknown_attachment", field, fmt.Sprintf("%q is not an attachment of this exam", id))
			}
			return err
		}
	}
	return nil
}

// Attachment is a photo a patient uploads for the provider.
type Attachment struct {
	ID          string    `json:"id"`
	ExamID      string    `json:"exam_id"`
	Kind        string    `json:"kind"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	ObjectKey   string    `json:"object_key"`
	CreatedAt   time.Time `json:"created_at"`
}

// AddAttachment reserves an attachment and returns where to upload it.
func (s *Service) AddAttachment(ctx context.Context, examID string, in AttachmentInput) (Attachment, blob.PresignedRequest, error) {
	if in.Kind != "photo" {
		return Attachment{}, blob.PresignedRequest{}, fault.Invalid("invalid_kind", "kind", `kind must be "photo"`)
	}
	if !slices.Contains(attachmentTypes, in.ContentType) {
		return Attachment{}, blob.PresignedRequest{}, fault.Invalid("invalid_content_type", "content_type", "photos must be image/jpeg, image/png or image/heic")
	}
	if in.Size > MaxAttachmentBytes {
		return Attachment{}, blob.PresignedRequest{}, &fault.Error{Kind: fault.ErrTooLarge, Code: "attachment_too_large", Field: "size", Message: fmt.Sprintf("photos may be at most %d bytes", MaxAttachmentBytes)}
	}
	if in.Size <= 0 {
		return Attachment{}, blob.PresignedRequest{}, fault.Invalid("invalid_size", "size", "size must be the photo's size in bytes")
	}
	e, err := load(ctx, s.Store, examID)
	if err != nil {
		return Attachment{}, blob.PresignedRequest{}, err
	}
	if e.Status != Draft {
		return Attachment{}, blob.PresignedRequest{}, fault.Conflict("already_submitted", "photos cannot be added once the exam is submitted")
	}
	existing, err := s.Store.Query(ctx, store.Query{Index: store.Primary, PK: examKey(examID).PK, SKPrefix: "ATT#", Limit: MaxAttachments + 1})
	if err != nil {
		return Attachment{}, blob.PresignedRequest{}, err
	}
	if len(existing.Items) >= MaxAttachments {
		return Attachment{}, blob.PresignedRequest{}, fault.Invalid("too_many", "attachments", fmt.Sprintf("at most %d photos", MaxAttachments))
	}
	now := s.now()
	a := Attachment{ID: s.IDs.New("att"), ExamID: examID, Kind: in.Kind, ContentType: in.ContentType, Size: in.Size, CreatedAt: now}
	a.ObjectKey = "attachments/" + examID + "/" + a.ID
	upload, err := s.Blobs.PresignPut(ctx, a.ObjectKey, a.ContentType, a.Size, uploadURLTTL)
	if err != nil {
		return Attachment{}, blob.PresignedRequest{}, err
	}
	data, _ := json.Marshal(a)
	k := attachmentKey(examID, a.ID)
	ops := []store.Op{
		{Put: &store.Item{PK: k.PK, SK: k.SK, Version: 1, Data: data}, Cond: store.IfAbsent},
		// The exam must still be a draft when the reservation commits.
		{Check: ptr(examKey(examID)), Cond: store.IfVersion(e.version)},
		s.audit(examID, RolePatient, "attachment.create", examID, now).Op(),
	}
	if err := commit(ctx, s.Store, ops...); err != nil {
		return Attachment{}, blob.PresignedRequest{}, err
	}
	return a, upload, nil
}

func ptr[T any](v T) *T { return &v }

// Submit checks a draft is complete and puts it in its state's queue.
func (s *Service) Submit(ctx context.Context, examID string) (Exam, error) {
	e, err := load(ctx, s.Store, examID)
	if err != nil {
		return Exam{}, err
	}
	if e.Status != Draft {
		return Exam{}, fault.Conflict("already_submitted", "this exam is already "+string(e.Status))
	}
	now := s.now()
	// Rules are read again: the law may have changed since the draft began.
	rule, err := s.ruleFor(ctx, e.ClinicID, e.State, e.Treatments, now)
	if err != nil {
		return Exam{}, err
	}
	if err := checkModality(e.Modality, modalityStrings(rule.Modalities)); err != nil {
		return Exam{}, err
	}
	if err := s.checkClinicHours(ctx, e, now); err != nil {
		return Exam{}, err
	}
	// Readiness too: an attestation may have expired or been revoked
	// since the draft began.
	if err := s.checkOversight(ctx, e, now, PatientReader); err != nil {
		return Exam{}, err
	}
	form := s.Questionnaires.FormFor(e.Treatments)
	answers, err := form.Parse(e.Answers)
	if err != nil {
		return Exam{}, err
	}
	if field := form.FirstMissing(answers); field != "" {
		return Exam{}, fault.Invalid("answer_required", field, "this question needs an answer")
	}
	if !e.Consents.Telehealth {
		return Exam{}, fault.Invalid("consent_required", "consents.telehealth", "the patient must consent to telehealth")
	}
	if !e.Consents.Privacy {
		return Exam{}, fault.Invalid("consent_required", "consents.privacy", "the patient must accept the privacy notice")
	}
	photos := slices.Compact(slices.Sorted(slices.Values(append(slices.Clone(e.Attachments), form.AttachmentIDs(answers)...))))
	uploaded, err := s.uploaded(ctx, e.ID, photos)
	if err != nil {
		return Exam{}, err
	}
	if e.Modality == string(rules.Async) && rule.AsyncRequiresPhotos && len(uploaded) == 0 {
		return Exam{}, fault.Invalid("photo_required", "attachments", "an asynchronous exam in "+e.State+" needs photos for the provider to review")
	}
	next, err := e.Submit(e.ID, now)
	if err == nil {
		next, err = next.Enqueue(RoleSystem, now)
	}
	if err != nil {
		return Exam{}, err
	}
	next.SLA = s.Queueing().newSLA(next.Modality, now)
	next.Attachments = uploaded
	next.Flags = form.Flags(answers)
	if err := commit(ctx, s.Store, updateOp(e, next), s.audit(e.ID, RolePatient, "exam.submit", e.ID, now).Op()); err != nil {
		return Exam{}, err
	}
	next.version = e.version + 1
	return next, nil
}

// uploaded keeps the attachments whose bytes arrived with the declared size.
func (s *Service) uploaded(ctx context.Context, examID string, attIDs []string) ([]string, error) {
	var out []string
	for _, id := range attIDs {
		it, err := s.Store.Get(ctx, attachmentKey(examID, id))
		if err != nil {
			return nil, err
		}
		var a Attachment
		if err := json.Unmarshal(it.Data, &a); err != nil {
			return nil, err
		}
		obj, err := s.Blobs.Head(ctx, a.ObjectKey)
		if errors.Is(err, blob.ErrNotFound) {
			return nil, fault.Invalid("photo_not_uploaded", "attachments", fmt.Sprintf("photo %s was never uploaded", id))
		}
		if err != nil {
			return nil, err
		}
		if obj.Size != a.Size {
			return nil, fault.Invalid("photo_incomplete", "attachments", fmt.Sprintf("photo %s is incomplete", id))
		}
		out = append(out, id)
	}
	return out, nil
}

// Cancel ends a patient's exam before it is decided.
func (s *Service) Cancel(ctx context.Context, examID, actor, role string) (Exam, error) {
	e, err := load(ctx, s.Store, examID)
	if err != nil {
		return Exam{}, err
	}
	now := s.now()
	next, err := e.Cancel(actor, now)
	if err != nil {
		return Exam{}, err
	}
	if err := commit(ctx, s.Store, updateOp(e, next), s.audit(actor, role, "exam.cancel", e.ID, now).Op()); err != nil {
		return Exam{}, err
	}
	next.version = e.version + 1
	return next, nil
}

// ---- provider ----

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// providerExam loads an exam and the provider, hiding it from providers who
// may not take it.
func (s *Service) providerExam(ctx context.Context, providerID, examID string) (Exam, directory.Provider, error) {
	p, err := s.Directory.Provider(ctx, providerID)
	if err != nil {
		return Exam{}, directory.Provider{}, errExamNotFound
	}
	e, err := load(ctx, s.Store, examID)
	if err != nil {
		return Exam{}, directory.Provider{}, err
	}
	if e.ProviderID == providerID {
		return e, p, nil // the holder keeps access even if their licence lapses mid-review
	}
	if err := s.eligible(ctx, p, e, s.now()); err != nil {
		return Exam{}, directory.Provider{}, err
	}
	return e, p, nil
}

// ForProvider returns the full exam to the provider holding it.
func (s *Service) ForProvider(ctx context.Context, providerID, examID string) (Exam, []Attachment, error) {
	e, err := load(ctx, s.Store, examID)
	if err != nil {
		return Exam{}, nil, err
	}
	if e.ProviderID != providerID {
		return Exam{}, nil, errExamNotFound
	}
	atts, err := s.attachments(ctx, e)
	if err != nil {
		return Exam{}, nil, err
	}
	return e, atts, s.auditRead(ctx, providerID, RoleProvider, "exam.read", examID)
}

func (s *Service) attachments(ctx context.Context, e Exam) ([]Attachment, error) {
	out := []Attachment{}
	for _, id := range e.Attachments {
		it, err := s.Store.Get(ctx, attachmentKey(e.ID, id))
		if err != nil {
			return nil, err
		}
		var a Attachment
		if err := json.Unmarshal(it.Data, &a); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// AttachmentURL returns a short-lived download link of a photo to the
// provider holding the exam.
func (s *Service) AttachmentURL(ctx context.Context, providerID, examID, attID string) (blob.PresignedRequest, error) {
	e, err := load(ctx, s.Store, examID)
	if err != nil {
		return blob.PresignedRequest{}, err
	}
	if e.ProviderID != providerID || !slices.Contains(e.Attachments, attID) {
		return blob.PresignedRequest{}, fault.NotFound("attachment_not_found", "no such attachment")
	}
	if err := s.auditRead(ctx, providerID, RoleProvider, "attachment.read", examID); err != nil {
		return blob.PresignedRequest{}, err
	}
	return s.Blobs.PresignGet(ctx, "attachments/"+examID+"/"+attID, uploadURLTTL)
}

// Decide records the provider's decision; an approval signs and stores a PSO
// in the same commit.
func (s *Service) Decide(ctx context.Context, providerID, examID string, in DecisionInput) (Exam, *pso.Record, error) {
	e, p, err := s.providerExam(ctx, providerID, examID)
	if err != nil {
		return Exam{}, nil, err
	}
	now := s.now()
	d := Decision{Outcome: Outcome(in.Outcome), Notes: in.Notes, Reason: strings.TrimSpace(in.Reason), Attested: in.Attestation.Accepted, DecidedBy: providerID}
	if err := checkText("notes", in.Notes, false, maxNotesLen); err != nil {
		return Exam{}, nil, err
	}
	if err := checkText("reason", in.Reason, false, maxNotesLen); err != nil {
		return Exam{}, nil, err
	}
	rule, ruleErr := s.Rules.ForExam(e.State, e.Treatments, now)
	var review OrderReview
	switch d.Outcome {
	case Approved:
		if ruleErr != nil {
			return Exam{}, nil, ruleErr // the law changed since submission: no approval
		}
		if d.Orders, err = validateOrders(in.Orders, e.Treatments, rule.OrderValidityDays); err != nil {
			return Exam{}, nil, err
		}
		if !d.Attested {
			return Exam{}, nil, fault.Invalid("attestation_required", "attestation.accepted", "approving requires the attestation")
		}
		if err := s.checkOversight(ctx, e, now, StaffReader); err != nil {
			return Exam{}, nil, err // readiness lapsed while the exam waited
		}
		if s.Oversight != nil {
			if review, err = s.Oversight.ReviewOrders(ctx, e.ClinicID, d.Orders, now); err != nil {
				return Exam{}, nil, err
			}
		}
	case Deferred, Denied:
		if d.Reason == "" {
			return Exam{}, nil, fault.Invalid("reason_required", "reason", "say why, so the clinic and patient know what to do next")
		}
	case NotApplicable:
	default:
		return Exam{}, nil, fault.Invalid("invalid_outcome", "outcome", "outcome must be approved, deferred, denied or not_applicable")
	}
	next, err := e.Decide(d, now)
	if err != nil {
		return Exam{}, nil, err
	}
	ops := []store.Op{updateOp(e, next), s.audit(providerID, RoleProvider, "exam.decide", e.ID, now).Op()}
	var rec *pso.Record
	committed := false
	if d.Outcome == Approved {
		unlock, release, err := s.lockDecision(ctx, e.ID, providerID, now)
		if err != nil {
			return Exam{}, nil, err
		}
		defer func() { unlock(committed) }()
		// The lease ends with the decision's own transaction: one write
		// less per approval than deleting it afterwards.
		ops = append(ops, release)
		// Another decision may have committed between our read and the
		// lock; signing now would only leave an orphan object.
		if cur, err := load(ctx, s.Store, e.ID); err != nil || cur.version != e.version {
			if err != nil {
				return Exam{}, nil, err
			}
			return Exam{}, nil, fault.Conflict("already_decided", "this exam is already decided")
		}
		r, psoOps, err := s.issuePSO(ctx, next, p, rule, review, now)
		if err != nil {
			return Exam{}, nil, err
		}
		rec = &r
		next.PSO = &PSORef{ID: r.ID, ValidUntil: r.ValidUntil}
		ops[0] = updateOp(e, next)
		ops = append(append(ops, psoOps...), s.audit(providerID, RoleProvider, "pso.issue", e.ID, now).Op())
	}
	if err := commit(ctx, s.Store, ops...); err != nil {
		return Exam{}, nil, err
	}
	committed = true
	next.version = e.version + 1
	return next, rec, nil
}

// lockDecision takes a short lease on signing the exam's decision, so that
// of concurrent approvals only one signs and writes an order. An expired
// lease (a crashed attempt) is taken over.
// It returns the op that ends the lease within the decision's transaction
// (only while this attempt still holds it) and unlock, which ends it
// otherwise: unlock(committed) does nothing once that transaction committed.
func (s *Service) lockDecision(ctx context.Context, examID, providerID string, now time.Time) (unlock func(committed bool), release store.Op, err error) {
	k := decisionLockKey(examID)
	lock := store.Item{PK: k.PK, SK: k.SK, Version: 1, ExpiresAt: now.Add(decisionLockTTL), Data: []byte(`{"provider_id":"` + providerID + `"}`)}
	err = s.Store.Put(ctx, lock, store.IfAbsent)
	if errors.Is(err, store.ErrConditionFailed) {
		held, getErr := s.Store.Get(ctx, k)
		if getErr == nil && held.Expired(now) {
			lock.Version = held.Version + 1
			err = s.Store.Put(ctx, lock, store.IfVersion(held.Version))
		}
	}
	if errors.Is(err, store.ErrConditionFailed) {
		return nil, store.Op{}, fault.Conflict("decision_in_progress", "another decision on this exam is being signed")
	}
	if err != nil {
		return nil, store.Op{}, err
	}
	unlock = func(committed bool) {
		if committed {
			return
		}
		// Best effort with a fresh context: the lease expires anyway.
		_ = s.Store.Delete(context.WithoutCancel(ctx), k, store.IfVersion(lock.Version))
	}
	return unlock, store.Op{Delete: &k, Cond: store.IfVersion(lock.Version)}, nil
}

func (s *Service) issuePSO(ctx context.Context, e Exam, p directory.Provider, rule rules.Exam, review OrderReview, now time.Time) (pso.Record, []store.Op, error) {
	clinic, err := s.Directory.Clinic(ctx, e.ClinicID)
	if err != nil {
		return pso.Record{}, nil, err
	}
	lic, ok := routing.PerformingLicense(p, e.State, rule, now)
	if !ok {
		return pso.Record{}, nil, fault.Forbidden("license_not_active", "you hold no active licence that allows this exam in "+e.State)
	}
	validDays := rule.OrderValidityDays
	orders := make([]pso.Order, len(e.Decision.Orders))
	for i, o := range e.Decision.Orders {
		validDays = min(validDays, o.ValidDays)
		orders[i] = pso.Order{Treatment: o.Treatment, Product: o.Product, Dose: o.Dose, Route: o.Route, Areas: o.Areas,
			Frequency: o.Frequency, Quantity: o.Quantity, Refills: o.Refills, ValidDays: o.ValidDays}
	}
	flags := []pso.Flag{}
	for _, f := range e.Flags {
		flags = append(flags, pso.Flag{Code: f.Code, Display: f.Display})
	}
	doc := pso.Document{
		ID: pso.IDForExam(e.ID), ExamID: e.ID,
		Clinic:  pso.Party{ID: clinic.ID, Name: clinic.Name},
		Patient: pso.Patient{FirstName: e.Patient.FirstName, LastName: e.Patient.LastName, DOB: e.Patient.DOB, State: e.State},
		Provider: pso.Prescriber{ID: p.ID, Name: p.Name, Credential: p.Credential, NPI: p.NPI,
			LicenseState: lic.State, LicenseType: string(lic.Type), LicenseNumber: lic.Number},
		Orders:       orders,
		Findings:     pso.Findings{Screened: e.Treatments, Flags: flags, Notes: e.Decision.Notes},
		Attestation:  pso.Attestation{Text: pso.AttestationText, AcceptedAt: now},
		IssuedAt:     now,
		ValidUntil:   now.AddDate(0, 0, validDays).Format(time.DateOnly),
		RulesVersion: s.Rules.Version(),
	}
	review.apply(&doc)
	if rule.RequiresDEAInState {
		if dea, ok := p.DEAIn(e.State, now); ok {
			doc.Provider.DEANumber = dea.Number
		}
	}
	return s.PSOs.Issue(ctx, doc, e.ClinicID)
}

// ---- clinic ----

// ForClinic reads one of the clinic's exams.
func (s *Service) ForClinic(ctx context.Context, clinicID, examID string) (Exam, error) {
	e, err := load(ctx, s.Store, examID)
	if err != nil {
		return Exam{}, err
	}
	if e.ClinicID != clinicID {
		return Exam{}, errExamNotFound
	}
	return e, s.auditRead(ctx, clinicID, RoleClinic, "exam.read", examID)
}

// ListPage is one page of a clinic's exams, newest first.
type ListPage struct {
	Items      []Exam
	NextCursor string
}

// List pages through the clinic's exams, newest first, optionally of one
// status.
func (s *Service) List(ctx context.Context, clinicID string, status Status, cursor string, limit int) (ListPage, error) {
	if limit <= 0 || limit > 100 {
		limit = 50
	}
	if status != "" && !knownStatus(status) {
		return ListPage{}, fault.Invalid("invalid_status", "status", fmt.Sprintf("%q is not an exam status", status))
	}
	out := ListPage{Items: []Exam{}}
	q := store.Query{Index: store.ByGSI1, PK: ClinicIndexPK(clinicID), Descending: true, Cursor: cursor}
	for len(out.Items) < limit {
		q.Limit = limit - len(out.Items)
		page, err := s.Store.Query(ctx, q)
		if errors.Is(err, store.ErrInvalidCursor) {
			return ListPage{}, fault.Invalid("invalid_cursor", "cursor", "this cursor was not issued by this listing")
		}
		if err != nil {
			return ListPage{}, err
		}
		for _, it := range page.Items {
			e, err := FromItem(it)
			if err != nil {
				return ListPage{}, err
			}
			if status == "" || e.Status == status {
				out.Items = append(out.Items, e)
			}
		}
		out.NextCursor = page.Cursor
		if page.Cursor == "" {
			break
		}
		q.Cursor = page.Cursor
	}
	if len(out.Items) > 0 {
		rec := s.audit(clinicID, RoleClinic, "exam.list", "CLINIC#"+clinicID, s.now())
		rec.Reason = fmt.Sprintf("listed %d exams", len(out.Items))
		if err := audit.Append(ctx, s.Store, rec); err != nil {
			return ListPage{}, err
		}
	}
	return out, nil
}

func knownStatus(st Status) bool {
	switch st {
	case Draft, Submitted, Queued, Claimed, InConsult, Decided, Cancelled, Expired:
		return true
	}
	return false
}

// PSOForClinic reads one of the clinic's PSOs.
func (s *Service) PSOForClinic(ctx context.Context, clinicID, psoID string) (pso.Record, error) {
	r, err := pso.Get(ctx, s.Store, psoID)
	if err != nil {
		return pso.Record{}, err
	}
	if r.ClinicID != clinicID {
		return pso.Record{}, fault.NotFound("pso_not_found", "no such PSO")
	}
	return r, s.auditRead(ctx, clinicID, RoleClinic, "pso.read", r.ExamID)
}
