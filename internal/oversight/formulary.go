package oversight

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goodfaith/goodfaith/internal/catalog"
	"github.com/goodfaith/goodfaith/internal/exam"
	"github.com/goodfaith/goodfaith/internal/fault"
	"github.com/goodfaith/goodfaith/internal/store"
)

// Enablement is the director's choice for one product at one clinic.
type Enablement struct {
	Enabled    bool      `json:"enabled"`
	By         string    `json:"by"`
	At         time.Time `json:"at"`
	Note       string    `json:"note,omitempty"`
	Compounded bool      `json:"compounded,omitempty"` // the director enabled a compounded product knowingly
}

// Formulary is a clinic's products. A product without an entry is enabled
// when FDA-approved or cleared, and disabled otherwise (compounded products
// need an explicit entry).
type Formulary struct {
	Products map[string]Enablement `json:"products"`
}

func formularyKey(clinicID string) store.Key {
	return store.Key{PK: clinicPK(clinicID), SK: "FORMULARY"}
}

func (s *Service) formulary(ctx context.Context, clinicID string) (Formulary, int64, error) {
	var f Formulary
	v, err := getJSON(ctx, s.Store, formularyKey(clinicID), &f)
	if errors.Is(err, store.ErrNotFound) {
		return Formulary{Products: map[string]Enablement{}}, 0, nil
	}
	if f.Products == nil {
		f.Products = map[string]Enablement{}
	}
	return f, v, err
}

// enabled reports whether the clinic may order p.
func (f Formulary) enabled(p catalog.Product) bool {
	if !p.Orderable() {
		return false
	}
	if e, ok := f.Products[p.ID]; ok {
		return e.Enabled
	}
	return p.FDAStatus.Approved()
}

// ProductView is a catalogue product as a clinic's director sees it.
type ProductView struct {
	catalog.Product
	Orderable   bool        `json:"orderable"`
	Enabled     bool        `json:"enabled"`
	StatusLabel string      `json:"fda_status_label"`
	Choice      *Enablement `json:"choice,omitempty"` // the director's explicit choice, if any
}

// Products lists the catalogue with the clinic's enablement.
func (s *Service) Products(ctx context.Context, a Actor, clinicID string) ([]ProductView, error) {
	f, _, err := s.formulary(ctx, clinicID)
	if err != nil {
		return nil, err
	}
	out := []ProductView{}
	for _, p := range s.Catalog.Products {
		v := ProductView{Product: p, Orderable: p.Orderable(), Enabled: f.enabled(p), StatusLabel: p.FDAStatus.Label()}
		if e, ok := f.Products[p.ID]; ok {
			v.Choice = &e
		}
		out = append(out, v)
	}
	return out, nil
}

// SetProductInput is PUT .../products/{id}.
type SetProductInput struct {
	Enabled bool   `json:"enabled"`
	Note    string `json:"note"`
	// AcknowledgeCompounded must be true to enable a compounded product: the
	// director confirms it is not FDA-approved and will show as compounded
	// on every PSO.
	AcknowledgeCompounded bool `json:"acknowledge_compounded"`
}

// SetProduct enables or disables a product for the clinic.
func (s *Service) SetProduct(ctx context.Context, a Actor, clinicID, productID string, in SetProductInput) (ProductView, error) {
	p, ok := s.Catalog.ByID(productID)
	if !ok {
		return ProductView{}, fault.NotFound("product_not_found", "no catalogue product has this id")
	}
	note, err := checkText("note", in.Note, false, 1000)
	if err != nil {
		return ProductView{}, err
	}
	if in.Enabled {
		switch {
		case !p.Orderable():
			return ProductView{}, fault.Invalid("product_not_approved", "enabled", p.Name+" is "+strings.ToLower(p.FDAStatus.Label())+" and cannot be ordered")
		case p.FDAStatus.Compounded() && !in.AcknowledgeCompounded:
			return ProductView{}, fault.Invalid("compounded_acknowledgement_required", "acknowledge_compounded",
				p.Name+" is compounded, not FDA-approved; enabling it needs acknowledge_compounded: true")
		}
	}
	f, v, err := s.formulary(ctx, clinicID)
	if err != nil {
		return ProductView{}, err
	}
	e := Enablement{Enabled: in.Enabled, By: a.ID, At: s.now(), Note: note, Compounded: in.Enabled && p.FDAStatus.Compounded()}
	f.Products[p.ID] = e
	op, err := putOp(formularyKey(clinicID), f, v)
	if err != nil {
		return ProductView{}, err
	}
	action := "formulary.disable"
	if in.Enabled {
		action = "formulary.enable"
	}
	if err := s.commit(ctx, op, s.auditRec(a, action, clinicSubject(clinicID), p.ID).Op()); err != nil {
		return ProductView{}, err
	}
	return ProductView{Product: p, Orderable: p.Orderable(), Enabled: f.enabled(p), StatusLabel: p.FDAStatus.Label(), Choice: &e}, nil
}

// routeAliases maps common abbreviations to labelled route names.
var routeAliases = map[string]string{
	"im": "intramuscular", "sc": "subcutaneous", "sq": "subcutaneous", "subq": "subcutaneous", "subcut": "subcutaneous",
	"iv": "intravenous", "id": "intradermal", "po": "oral", "by mouth": "oral",
}

func normRoute(r string) string {
	r = strings.ToLower(strings.TrimSpace(r))
	if full, ok := routeAliases[r]; ok {
		return full
	}
	return r
}

// ReviewOrders implements exam.Oversight: every order must name a
// catalogue product of its treatment, FDA-approved or explicitly enabled
// compounded, enabled at the clinic, by a labelled route; the protocols in
// force are cited with any deviation.
func (s *Service) ReviewOrders(ctx context.Context, clinicID string, orders []exam.Order, now time.Time) (exam.OrderReview, error) {
	f, _, err := s.formulary(ctx, clinicID)
	if err != nil {
		return exam.OrderReview{}, err
	}
	var out exam.OrderReview
	products := make([]catalog.Product, len(orders))
	for i, o := range orders {
		at := "orders[" + strconv.Itoa(i) + "]."
		p, err := s.Catalog.Lookup(o.Product)
		switch {
		case errors.Is(err, catalog.ErrAmbiguousProduct):
			return exam.OrderReview{}, fault.Invalid("product_ambiguous", at+"product", fmt.Sprintf("%q fits more than one catalogue product; name the brand or its catalogue id", o.Product))
		case err != nil:
			return exam.OrderReview{}, fault.Invalid("product_unknown", at+"product", fmt.Sprintf("%q is not in the product catalogue", o.Product))
		case p.Category != o.Treatment:
			return exam.OrderReview{}, fault.Invalid("product_wrong_treatment", at+"product", p.Name+" is not a "+s.Rules.CategoryName(o.Treatment)+" product")
		case !p.Orderable():
			return exam.OrderReview{}, fault.Invalid("product_not_approved", at+"product", p.Name+" is not FDA-approved and cannot be ordered")
		case !f.enabled(p):
			msg := "the clinic's medical director has not enabled " + p.Name
			if p.FDAStatus.Compounded() {
				msg = p.Name + " is compounded; it needs the medical director's explicit enablement"
			}
			return exam.OrderReview{}, fault.Invalid("product_not_enabled", at+"product", msg)
		case !slices.Contains(p.Routes, normRoute(o.Route)):
			return exam.OrderReview{}, &fault.Error{Kind: fault.ErrInvalid, Code: "route_not_labelled", Field: at + "route",
				Message: fmt.Sprintf("%q is not a labelled route of %s", o.Route, p.Name), Details: map[string]any{"labelled_routes": p.Routes}}
		}
		products[i] = p
		out.Products = append(out.Products, exam.ReviewedProduct{ID: p.ID, FDAStatus: string(p.FDAStatus)})
	}
	refs, err := s.protocolRefs(ctx, clinicID, orders, products)
	if err != nil {
		return exam.OrderReview{}, err
	}
	out.Protocols = refs
	return out, nil
}
