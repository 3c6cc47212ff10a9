package oversight

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/goodfaith/goodfaith/internal/directory"
	"github.com/goodfaith/goodfaith/internal/exam"
	"github.com/goodfaith/goodfaith/internal/fault"
	"github.com/goodfaith/goodfaith/internal/parallel"
	"github.com/goodfaith/goodfaith/internal/store"
)

// Requirements are what each treatment needs on site (data/readiness.json).
type Requirements struct {
	Version            string              `json:"version"`
	Basis              string              `json:"basis"`
	DefaultValidMonths int                 `json:"default_valid_months"`
	Items              map[string]string   `json:"items"`
	Treatments         map[string][]string `json:"treatments"`
}

//go:embed data/readiness.json
var readinessData []byte

// DefaultRequirements returns the embedded requirements; it panics on bad
// data, which its test prevents.
func DefaultRequirements() *Requirements {
	r, err := ParseRequirements(readinessData)
	if err != nil {
		panic(err)
	}
	return r
}

// ParseRequirements reads requirements strictly.
func ParseRequirements(data []byte) (*Requirements, error) {
	var r Requirements
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("readiness: %w", err)
	}
	if r.DefaultValidMonths < 1 || r.DefaultValidMonths > 12 {
		return nil, fmt.Errorf("readiness: default_valid_months must be 1 to 12")
	}
	for t, items := range r.Treatments {
		if len(items) == 0 {
			return nil, fmt.Errorf("readiness: %s requires nothing", t)
		}
		for _, it := range items {
			if _, ok := r.Items[it]; !ok {
				return nil, fmt.Errorf("readiness: %s requires unknown item %s", t, it)
			}
		}
	}
	return &r, nil
}

// Attestation is the director's statement that a clinic is ready for a
// treatment's emergencies. Attestations are append-only; the latest counts.
type Attestation struct {
	ID          string          `json:"id"`
	ClinicID    string          `json:"clinic_id"`
	Treatment   string          `json:"treatment"`
	Items       map[string]bool `json:"items"`
	LastDrillOn string          `json:"last_drill_on"` // YYYY-MM-DD, the staff's last emergency drill
	Note        string          `json:"note,omitempty"`
	AttestedBy  string          `json:"attested_by"`
	AttestedAt  time.Time       `json:"attested_at"`
	ExpiresAt   time.Time       `json:"expires_at"`
	// Revoked is set when the director withdrew the attestation before it
	// expired (the kit was used, the protocol is being rewritten): the
	// treatment stops being offered at once.
	Revoked *Revocation `json:"revoked,omitempty"`
}

// Revocation is who withdrew an attestation, when and why.
type Revocation struct {
	By     string    `json:"by"`
	At     time.Time `json:"at"`
	Reason string    `json:"reason"`
}

// AttestInput is PUT .../readiness/{treatment}.
type AttestInput struct {
	Items       map[string]bool `json:"items"`
	LastDrillOn string          `json:"last_drill_on"`
	ValidMonths int             `json:"valid_months"` // 1..12; 0: the default (12)
	Note        string          `json:"note"`
}

func attestationSK(treatment string, at time.Time, id string) string {
	return "READINESS#" + treatment + "#" + store.SortableTime(at) + "#" + id
}

// Attest records a readiness attestation.
func (s *Service) Attest(ctx context.Context, a Actor, clinicID, treatment string, in AttestInput) (Attestation, error) {
	clinic, err := s.Directory.Clinic(ctx, clinicID)
	if err != nil {
		return Attestation{}, err
	}
	if err := s.knownTreatment(clinic, treatment, "treatment"); err != nil {
		return Attestation{}, err
	}
	need := s.Readiness.Treatments[treatment]
	for item := range in.Items {
		if !slices.Contains(need, item) {
			return Attestation{}, fault.Invalid("unknown_item", "items."+item, fmt.Sprintf("%q is not a readiness item of %s", item, s.Rules.CategoryName(treatment)))
		}
	}
	for _, item := range need {
		if !in.Items[item] {
			return Attestation{}, &fault.Error{Kind: fault.ErrInvalid, Code: "readiness_item_missing", Field: "items." + item,
				Message: "attest every item: " + s.Readiness.Items[item], Details: map[string]any{"required_items": need}}
		}
	}
	months := in.ValidMonths
	if months == 0 {
		months = s.Readiness.DefaultValidMonths
	}
	if months < 1 || months > 12 {
		return Attestation{}, fault.Invalid("out_of_range", "valid_months", "an attestation is valid 1 to 12 months")
	}
	now := s.now()
	drill, err := time.Parse(time.DateOnly, in.LastDrillOn)
	if err != nil {
		return Attestation{}, fault.Invalid("invalid_date", "last_drill_on", "the date of the staff's last emergency drill, YYYY-MM-DD")
	}
	if drill.After(now) || drill.Before(now.AddDate(-1, 0, 0)) {
		return Attestation{}, fault.Invalid("drill_out_of_date", "last_drill_on", "the last drill must be within the past 12 months")
	}
	note, err := checkText("note", in.Note, false, 2000)
	if err != nil {
		return Attestation{}, err
	}
	at := Attestation{ID: s.IDs.New("att"), ClinicID: clinicID, Treatment: treatment, Items: in.Items, LastDrillOn: in.LastDrillOn, Note: note,
		AttestedBy: a.ID, AttestedAt: now, ExpiresAt: now.AddDate(0, months, 0)}
	op, err := putOp(store.Key{PK: clinicPK(clinicID), SK: attestationSK(treatment, now, at.ID)}, at, 0)
	if err != nil {
		return Attestation{}, err
	}
	if err := s.commit(ctx, op, s.auditRec(a, "readiness.attest", clinicSubject(clinicID), treatment+" until "+at.ExpiresAt.Format(time.DateOnly)).Op()); err != nil {
		return Attestation{}, err
	}
	return at, nil
}

// Readiness statuses.
const (
	Ready      = "ready"
	Missing    = "missing"
	ExpiredAtt = "expired"
	RevokedAtt = "revoked"
	NoDirector = "no_director" // no medical director on file: not enforced
)

// TreatmentReadiness is one treatment's readiness at a clinic.
type TreatmentReadiness struct {
	Treatment     string   `json:"treatment"`
	Status        string   `json:"status"`
	Offered       bool     `json:"offered"` // whether the widget offers it
	Reason        string   `json:"reason,omitempty"`
	RequiredItems []string `json:"required_items"`
	// MissingItems are the required items no attestation in force covers
	// (all of them when the attestation is missing, expired or revoked).
	MissingItems []string     `json:"missing_items"`
	Attestation  *Attestation `json:"attestation,omitempty"`
}

// latestItems returns the newest attestation item of each treatment.
func (s *Service) latestItems(ctx context.Context, clinicID string) (map[string]store.Item, error) {
	items, err := s.queryAll(ctx, store.Query{Index: store.Primary, PK: clinicPK(clinicID), SKPrefix: "READINESS#"})
	if err != nil {
		return nil, err
	}
	out := map[string]store.Item{}
	for _, it := range items { // SK order: per treatment, oldest first
		t, _, _ := strings.Cut(strings.TrimPrefix(it.SK, "READINESS#"), "#")
		out[t] = it
	}
	return out, nil
}

// latest returns the newest attestation of each treatment.
func (s *Service) latest(ctx context.Context, clinicID string) (map[string]Attestation, error) {
	items, err := s.latestItems(ctx, clinicID)
	if err != nil {
		return nil, err
	}
	out := map[string]Attestation{}
	for t, it := range items {
		var a Attestation
		if err := json.Unmarshal(it.Data, &a); err != nil {
			return nil, err
		}
		out[t] = a
	}
	return out, nil
}

// RevokeInput is POST .../readiness/{treatment}/revoke.
type RevokeInput struct {
	Reason string `json:"reason"`
}

// RevokeAttestation withdraws the treatment's attestation in force: from
// now the treatment is not offered, exams for it are not submitted nor
// approved, until the director attests again.
func (s *Service) RevokeAttestation(ctx context.Context, a Actor, clinicID, treatment string, in RevokeInput) (Attestation, error) {
	clinic, err := s.Directory.Clinic(ctx, clinicID)
	if err != nil {
		return Attestation{}, err
	}
	if err := s.knownTreatment(clinic, treatment, "treatment"); err != nil {
		return Attestation{}, err
	}
	reason, err := checkText("reason", in.Reason, true, 2000)
	if err != nil {
		return Attestation{}, err
	}
	items, err := s.latestItems(ctx, clinicID)
	if err != nil {
		return Attestation{}, err
	}
	it, ok := items[treatment]
	if !ok {
		return Attestation{}, fault.NotFound("attestation_not_found", "no readiness attestation for "+s.Rules.CategoryName(treatment))
	}
	var at Attestation
	if err := json.Unmarshal(it.Data, &at); err != nil {
		return Attestation{}, err
	}
	now := s.now()
	if at.Revoked != nil || !now.Before(at.ExpiresAt) {
		return Attestation{}, fault.Conflict("attestation_not_in_force", "the readiness attestation for "+s.Rules.CategoryName(treatment)+" is already revoked or expired")
	}
	at.Revoked = &Revocation{By: a.ID, At: now, Reason: reason}
	op, err := putOp(store.Key{PK: it.PK, SK: it.SK}, at, it.Version)
	if err != nil {
		return Attestation{}, err
	}
	if err := s.commit(ctx, op, s.auditRec(a, "readiness.revoke", clinicSubject(clinicID), treatment+": "+reason).Op()); err != nil {
		return Attestation{}, err
	}
	return at, nil
}

// ReadinessOf reports each of the clinic's treatments' readiness at now.
// The clinic and its readiness records are read at once: they do not
// depend on each other, and exam starts and director views wait on them.
func (s *Service) ReadinessOf(ctx context.Context, clinicID string, now time.Time) ([]TreatmentReadiness, error) {
	var clinic directory.Clinic
	var recs readinessRecords
	err := parallel.Do(ctx,
		func(ctx context.Context) (err error) {
			clinic, err = s.Directory.Clinic(ctx, clinicID)
			return err
		},
		func(ctx context.Context) (err error) {
			recs, err = s.readinessRecords(ctx, clinicID)
			return err
		})
	if err != nil {
		return nil, err
	}
	return s.assess(clinic.Treatments, recs, now), nil
}

// readinessRecords are what a treatment's readiness is judged on.
type readinessRecords struct {
	directors []directory.MedicalDirector
	latest    map[string]Attestation // the newest attestation of each treatment
}

// readinessRecords reads the clinic's directors and attestations at once.
func (s *Service) readinessRecords(ctx context.Context, clinicID string) (readinessRecords, error) {
	var r readinessRecords
	err := parallel.Do(ctx,
		func(ctx context.Context) (err error) {
			r.directors, err = s.Directory.ClinicDirectors(ctx, clinicID)
			return err
		},
		func(ctx context.Context) (err error) {
			r.latest, err = s.latest(ctx, clinicID)
			return err
		})
	return r, err
}

// assess judges each treatment's readiness at now from the records.
func (s *Service) assess(treatments []string, recs readinessRecords, now time.Time) []TreatmentReadiness {
	dirs, latest := recs.directors, recs.latest
	out := []TreatmentReadiness{}
	for _, t := range treatments {
		r := TreatmentReadiness{Treatment: t, RequiredItems: nonNil(s.Readiness.Treatments[t])}
		name := s.Rules.CategoryName(t)
		a, ok := latest[t]
		if ok {
			r.Attestation = &a
		}
		need := s.Readiness.Treatments[t]
		r.MissingItems = nonNil(slices.Clone(need))
		switch {
		case len(dirs) == 0:
			r.Status, r.Offered, r.Reason = NoDirector, true, "no medical director is on file for this clinic, so emergency readiness is not attested or enforced"
			r.MissingItems = []string{}
		case !ok:
			r.Status, r.Reason = Missing, "the medical director has not attested emergency readiness for "+name+" (missing: "+s.itemList(need)+")"
		case a.Revoked != nil:
			r.Status, r.Reason = RevokedAtt, "the medical director revoked the emergency-readiness attestation for "+name+" on "+a.Revoked.At.Format(time.DateOnly)+
				" ("+a.Revoked.Reason+"); to offer it again they must attest: "+s.itemList(need)
		case !now.Before(a.ExpiresAt):
			r.Status, r.Reason = ExpiredAtt, "the emergency-readiness attestation for "+name+" expired on "+a.ExpiresAt.Format(time.DateOnly)+
				"; the medical director must attest again: "+s.itemList(need)
		default:
			// Requirements may have grown since the attestation.
			r.MissingItems = slices.DeleteFunc(r.MissingItems, func(it string) bool { return a.Items[it] })
			if len(r.MissingItems) > 0 {
				r.Status, r.Reason = Missing, "the emergency-readiness attestation for "+name+" does not cover: "+s.itemList(r.MissingItems)
			} else {
				r.Status, r.Offered = Ready, true
			}
		}
		out = append(out, r)
	}
	return out
}

// itemList names readiness items as the director reads them.
func (s *Service) itemList(items []string) string {
	var parts []string
	for _, it := range items {
		parts = append(parts, s.Readiness.Items[it])
	}
	return strings.Join(parts, "; ")
}

func nonNil[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}

// CheckTreatments implements exam.Oversight: an exam may not start, be
// submitted or be approved for a treatment whose readiness is missing,
// expired or revoked. Staff read the reason and the items to attest; a
// patient reads only that the treatment is not offered online now, since
// the director's revoke reason is free text that may name a patient.
func (s *Service) CheckTreatments(ctx context.Context, clinicID string, treatments []string, now time.Time, reader exam.Reader) error {
	rs, err := s.ReadinessOf(ctx, clinicID, now)
	if err != nil {
		return err
	}
	for i, t := range treatments {
		for _, r := range rs {
			if r.Treatment == t && !r.Offered && reader == exam.PatientReader {
				return &fault.Error{Kind: fault.ErrInvalid, Code: "treatment_not_ready", Field: fmt.Sprintf("treatments[%d]", i),
					Message: "This clinic cannot offer " + s.Rules.CategoryName(t) + " online right now.", Details: map[string]any{"treatment": t}}
			}
			if r.Treatment == t && !r.Offered {
				return &fault.Error{Kind: fault.ErrInvalid, Code: "treatment_not_ready", Field: fmt.Sprintf("treatments[%d]", i),
					Message: r.Reason, Details: map[string]any{"readiness": r.Status, "treatment": t, "missing_items": r.MissingItems}}
			}
		}
	}
	return nil
}

// OfferedTreatments keeps the treatments the widget may offer now. The
// caller holds the clinic already, so only the readiness records are read.
func (s *Service) OfferedTreatments(ctx context.Context, clinicID string, treatments []string, now time.Time) ([]string, error) {
	recs, err := s.readinessRecords(ctx, clinicID)
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, r := range s.assess(treatments, recs, now) {
		if r.Offered {
			out = append(out, r.Treatment)
		}
	}
	return out, nil
}
