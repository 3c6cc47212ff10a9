package oversight

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goodfaith/goodfaith/internal/catalog"
	"github.com/goodfaith/goodfaith/internal/exam"
	"github.com/goodfaith/goodfaith/internal/fault"
	"github.com/goodfaith/goodfaith/internal/pso"
	"github.com/goodfaith/goodfaith/internal/store"
)

// StandingOrder is a protocol's default order: what the provider's decision
// form is prefilled with, and what an order is compared to for deviations.
type StandingOrder struct {
	Product   string   `json:"product"` // a catalogue product id
	Dose      string   `json:"dose"`
	Route     string   `json:"route"`
	Areas     []string `json:"areas,omitempty"`
	Frequency string   `json:"frequency,omitempty"`
	Quantity  string   `json:"quantity,omitempty"`
	Refills   int      `json:"refills"`
	ValidDays int      `json:"valid_days,omitempty"`
}

// Signature is the medical director's e-signature of one protocol version.
type Signature struct {
	DirectorID string    `json:"director_id"`
	Name       string    `json:"name"` // as typed by the director
	SignedAt   time.Time `json:"signed_at"`
	SHA256     string    `json:"sha256"` // of the version's content (contentHash)
}

// Protocol is one version of a clinic's protocol for a treatment. A version
// is written once; it takes effect when its director signs it, and stays in
// force until a later version is signed.
type Protocol struct {
	ID            string        `json:"id"`
	ClinicID      string        `json:"clinic_id"`
	Treatment     string        `json:"treatment"`
	Version       int           `json:"version"`
	Title         string        `json:"title"`
	Text          string        `json:"text"`
	StandingOrder StandingOrder `json:"standing_order"`
	CreatedBy     string        `json:"created_by"`
	CreatedAt     time.Time     `json:"created_at"`
	Signature     *Signature    `json:"signature,omitempty"`
}

// ProtocolID is the stable id of a clinic's protocol for a treatment.
func ProtocolID(clinicID, treatment string) string { return "proto_" + clinicID + "_" + treatment }

func protocolKey(clinicID, treatment string, version int) store.Key {
	return store.Key{PK: clinicPK(clinicID), SK: fmt.Sprintf("PROTOCOL#%s#%06d", treatment, version)}
}

// contentHash is the hex SHA-256 of what the director signs.
func (p Protocol) contentHash() string {
	b, _ := json.Marshal(struct {
		ID            string        `json:"id"`
		Treatment     string        `json:"treatment"`
		Version       int           `json:"version"`
		Title         string        `json:"title"`
		Text          string        `json:"text"`
		StandingOrder StandingOrder `json:"standing_order"`
	}{p.ID, p.Treatment, p.Version, p.Title, p.Text, p.StandingOrder})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// ProtocolInput is POST .../protocols.
type ProtocolInput struct {
	Treatment     string        `json:"treatment"`
	Title         string        `json:"title"`
	Text          string        `json:"text"`
	StandingOrder StandingOrder `json:"standing_order"`
}

// versions lists a treatment's protocol versions, oldest first.
func (s *Service) versions(ctx context.Context, clinicID, treatment string) ([]Protocol, error) {
	items, err := s.queryAll(ctx, store.Query{Index: store.Primary, PK: clinicPK(clinicID), SKPrefix: "PROTOCOL#" + treatment + "#"})
	if err != nil {
		return nil, err
	}
	out := make([]Protocol, 0, len(items))
	for _, it := range items {
		var p Protocol
		if err := json.Unmarshal(it.Data, &p); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// CreateProtocol writes the next version of a treatment's protocol,
// unsigned: it is not in force until signed.
func (s *Service) CreateProtocol(ctx context.Context, a Actor, clinicID string, in ProtocolInput) (Protocol, error) {
	clinic, err := s.Directory.Clinic(ctx, clinicID)
	if err != nil {
		return Protocol{}, err
	}
	if err := s.knownTreatment(clinic, in.Treatment, "treatment"); err != nil {
		return Protocol{}, err
	}
	p := Protocol{ID: ProtocolID(clinicID, in.Treatment), ClinicID: clinicID, Treatment: in.Treatment, CreatedBy: a.ID, CreatedAt: s.now()}
	if p.Title, err = checkText("title", in.Title, true, 200); err != nil {
		return Protocol{}, err
	}
	if p.Text, err = checkText("text", in.Text, true, 50_000); err != nil {
		return Protocol{}, err
	}
	so := in.StandingOrder
	prod, ok := s.Catalog.ByID(so.Product)
	switch {
	case !ok:
		return Protocol{}, fault.Invalid("product_unknown", "standing_order.product", "name a catalogue product id")
	case prod.Category != in.Treatment:
		return Protocol{}, fault.Invalid("product_wrong_treatment", "standing_order.product", prod.Name+" is not a "+s.Rules.CategoryName(in.Treatment)+" product")
	case !prod.Orderable():
		return Protocol{}, fault.Invalid("product_not_approved", "standing_order.product", prod.Name+" is not FDA-approved and cannot be ordered")
	case !slices.Contains(prod.Routes, normRoute(so.Route)):
		return Protocol{}, fault.Invalid("route_not_labelled", "standing_order.route", fmt.Sprintf("%q is not a labelled route of %s", so.Route, prod.Name))
	case so.Refills < 0 || so.Refills > 11:
		return Protocol{}, fault.Invalid("out_of_range", "standing_order.refills", "refills must be 0 to 11")
	case so.ValidDays < 0 || so.ValidDays > 366:
		return Protocol{}, fault.Invalid("out_of_range", "standing_order.valid_days", "valid_days must be 0 (the rules' maximum) to 366")
	}
	for _, f := range []struct {
		name, v string
		req     bool
	}{{"dose", so.Dose, true}, {"frequency", so.Frequency, false}, {"quantity", so.Quantity, false}} {
		if _, err := checkText("standing_order."+f.name, f.v, f.req, 500); err != nil {
			return Protocol{}, err
		}
	}
	for i, ar := range so.Areas {
		if _, err := checkText("standing_order.areas["+strconv.Itoa(i)+"]", ar, true, 500); err != nil {
			return Protocol{}, err
		}
	}
	p.StandingOrder = so
	existing, err := s.versions(ctx, clinicID, in.Treatment)
	if err != nil {
		return Protocol{}, err
	}
	p.Version = len(existing) + 1
	op, err := putOp(protocolKey(clinicID, p.Treatment, p.Version), p, 0)
	if err != nil {
		return Protocol{}, err
	}
	if err := s.commit(ctx, op, s.auditRec(a, "protocol.create", clinicSubject(clinicID), fmt.Sprintf("%s v%d", p.ID, p.Version)).Op()); err != nil {
		return Protocol{}, err
	}
	return p, nil
}

// SignInput is POST .../protocols/{treatment}/versions/{version}/sign.
type SignInput struct {
	Accepted bool   `json:"accepted"`
	Name     string `json:"name"`
	SHA256   string `json:"sha256"` // optional: the content hash the director reviewed
}

// SignProtocol e-signs a version, putting it in force. A version is signed
// once; a changed protocol is a new version that needs its own signature.
func (s *Service) SignProtocol(ctx context.Context, a Actor, clinicID, treatment string, version int, in SignInput) (Protocol, error) {
	if !in.Accepted {
		return Protocol{}, fault.Invalid("signature_required", "accepted", "signing needs accepted: true")
	}
	name, err := checkText("name", in.Name, true, 200)
	if err != nil {
		return Protocol{}, err
	}
	var p Protocol
	v, err := getJSON(ctx, s.Store, protocolKey(clinicID, treatment, version), &p)
	if errors.Is(err, store.ErrNotFound) {
		return Protocol{}, fault.NotFound("protocol_not_found", "no such protocol version")
	}
	if err != nil {
		return Protocol{}, err
	}
	if p.Signature != nil {
		return Protocol{}, fault.Conflict("already_signed", "this version is signed; write a new version to change it")
	}
	sum := p.contentHash()
	if in.SHA256 != "" && !strings.EqualFold(in.SHA256, sum) {
		return Protocol{}, fault.Invalid("content_changed", "sha256", "the protocol is not the one reviewed")
	}
	p.Signature = &Signature{DirectorID: a.ID, Name: name, SignedAt: s.now(), SHA256: sum}
	op, err := putOp(protocolKey(clinicID, treatment, version), p, v)
	if err != nil {
		return Protocol{}, err
	}
	if err := s.commit(ctx, op, s.auditRec(a, "protocol.sign", clinicSubject(clinicID), fmt.Sprintf("%s v%d sha256 %s", p.ID, p.Version, sum)).Op()); err != nil {
		return Protocol{}, err
	}
	return p, nil
}

// ProtocolSummary is one treatment's protocol: the version in force and
// every version.
type ProtocolSummary struct {
	Treatment string     `json:"treatment"`
	Active    *Protocol  `json:"active"`
	Versions  []Protocol `json:"versions"`
}

// Protocols lists the clinic's protocols per treatment it offers.
func (s *Service) Protocols(ctx context.Context, clinicID string) ([]ProtocolSummary, error) {
	clinic, err := s.Directory.Clinic(ctx, clinicID)
	if err != nil {
		return nil, err
	}
	out := []ProtocolSummary{}
	for _, t := range clinic.Treatments {
		vs, err := s.versions(ctx, clinicID, t)
		if err != nil {
			return nil, err
		}
		out = append(out, ProtocolSummary{Treatment: t, Active: active(vs), Versions: vs})
	}
	return out, nil
}

// active is the latest signed version.
func active(vs []Protocol) *Protocol {
	for i := len(vs) - 1; i >= 0; i-- {
		if vs[i].Signature != nil {
			p := vs[i]
			return &p
		}
	}
	return nil
}

// ActiveProtocols returns the protocols in force for the treatments (the
// provider's prefill).
func (s *Service) ActiveProtocols(ctx context.Context, clinicID string, treatments []string) ([]Protocol, error) {
	out := []Protocol{}
	for _, t := range treatments {
		vs, err := s.versions(ctx, clinicID, t)
		if err != nil {
			return nil, err
		}
		if p := active(vs); p != nil {
			out = append(out, *p)
		}
	}
	return out, nil
}

// protocolRefs cites, per treatment ordered, the version in force and how
// the orders deviate from its standing order.
func (s *Service) protocolRefs(ctx context.Context, clinicID string, orders []exam.Order, products []catalog.Product) ([]pso.ProtocolRef, error) {
	var refs []pso.ProtocolRef
	var followed []Protocol // parallel to refs
	seen := map[string]int{}
	for i, o := range orders {
		idx, ok := seen[o.Treatment]
		if !ok {
			vs, err := s.versions(ctx, clinicID, o.Treatment)
			if err != nil {
				return nil, err
			}
			idx = -1
			if p := active(vs); p != nil {
				refs = append(refs, pso.ProtocolRef{ID: p.ID, Treatment: p.Treatment, Version: p.Version, SignedBy: p.Signature.DirectorID,
					SignedAt: p.Signature.SignedAt, SHA256: p.Signature.SHA256})
				followed = append(followed, *p)
				idx = len(refs) - 1
			}
			seen[o.Treatment] = idx
		}
		if idx >= 0 {
			prefix := ""
			if len(orders) > 1 {
				prefix = "order " + strconv.Itoa(i+1) + " "
			}
			refs[idx].Deviations = append(refs[idx].Deviations, deviations(followed[idx].StandingOrder, o, products[i], prefix)...)
		}
	}
	return refs, nil
}

// deviations lists how an order differs from a standing order, as
// "field: protocol X, ordered Y".
func deviations(so StandingOrder, o exam.Order, p catalog.Product, prefix string) []string {
	var out []string
	diff := func(field, want, got string) {
		if !strings.EqualFold(strings.Join(strings.Fields(want), " "), strings.Join(strings.Fields(got), " ")) {
			out = append(out, fmt.Sprintf("%s%s: protocol %q, ordered %q", prefix, field, want, got))
		}
	}
	if so.Product != p.ID {
		out = append(out, fmt.Sprintf("%sproduct: protocol %s, ordered %s", prefix, so.Product, p.ID))
	}
	diff("dose", so.Dose, o.Dose)
	if normRoute(so.Route) != normRoute(o.Route) {
		diff("route", so.Route, o.Route)
	}
	if so.Frequency != "" || o.Frequency != "" {
		diff("frequency", so.Frequency, o.Frequency)
	}
	if so.Quantity != "" || o.Quantity != "" {
		diff("quantity", so.Quantity, o.Quantity)
	}
	if len(so.Areas) > 0 || len(o.Areas) > 0 {
		a, b := normSet(so.Areas), normSet(o.Areas)
		if !slices.Equal(a, b) {
			diff("areas", strings.Join(so.Areas, ", "), strings.Join(o.Areas, ", "))
		}
	}
	if so.Refills != o.Refills {
		out = append(out, fmt.Sprintf("%srefills: protocol %d, ordered %d", prefix, so.Refills, o.Refills))
	}
	if so.ValidDays != 0 && so.ValidDays != o.ValidDays {
		out = append(out, fmt.Sprintf("%svalid_days: protocol %d, ordered %d", prefix, so.ValidDays, o.ValidDays))
	}
	return out
}

func normSet(xs []string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = strings.ToLower(strings.TrimSpace(x))
	}
	slices.Sort(out)
	return slices.Compact(out)
}
