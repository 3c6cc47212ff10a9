package catalog

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// Status is a product's FDA status.
type Status string

// FDA statuses.
const (
	ApprovedDrug     Status = "approved_drug"     // NDA / ANDA
	ApprovedBiologic Status = "approved_biologic" // BLA (e.g. botulinum toxins)
	DeviceApproved   Status = "device_approved"   // PMA (e.g. HA fillers)
	DeviceCleared    Status = "device_cleared"    // 510(k)
	Compounded503A   Status = "compounded_503a"
	Compounded503B   Status = "compounded_503b"
	NotApproved      Status = "not_approved"
)

// Approved reports whether the status is an FDA approval or clearance.
func (s Status) Approved() bool {
	switch s {
	case ApprovedDrug, ApprovedBiologic, DeviceApproved, DeviceCleared:
		return true
	}
	return false
}

// Compounded reports whether the status is a compounded product.
func (s Status) Compounded() bool { return s == Compounded503A || s == Compounded503B }

func (s Status) valid() bool { return s.Approved() || s.Compounded() || s == NotApproved }

// Label is how the status reads on a PSO and in the dashboard.
func (s Status) Label() string {
	switch s {
	case ApprovedDrug:
		return "FDA-approved drug"
	case ApprovedBiologic:
		return "FDA-licensed biologic"
	case DeviceApproved:
		return "FDA-approved device (PMA)"
	case DeviceCleared:
		return "FDA-cleared device"
	case Compounded503A:
		return "Compounded (503A), not FDA-approved; enabled by the medical director"
	case Compounded503B:
		return "Compounded (503B outsourcing facility), not FDA-approved; enabled by the medical director"
	}
	return "Not FDA-approved"
}

// Dose is a usual dose for an indication, as labelled.
type Dose struct {
	Indication string `json:"indication"`
	Dose       string `json:"dose"`
}

// Product is one catalogue entry.
type Product struct {
	ID                 string   `json:"id"`
	Name               string   `json:"name"`
	Generic            string   `json:"generic"`
	Aliases            []string `json:"aliases"`
	Category           string   `json:"category"`
	FDAStatus          Status   `json:"fda_status"`
	Imported           bool     `json:"imported,omitempty"`
	Manufacturer       string   `json:"manufacturer,omitempty"`
	ControlledSchedule string   `json:"controlled_schedule,omitempty"`
	// NDCs are the product's package NDCs in the FDA's 10-digit
	// labeler-product-package form (4-4-2, 5-3-2 or 5-4-1), as found in
	// NDCSource (a key of Sources). NDCReview says why an FDA-approved drug
	// or biologic has none, or what is incomplete: such entries stay
	// marked for the medical director's review.
	NDCs       []string `json:"ndcs,omitempty"`
	NDCSource  string   `json:"ndc_source,omitempty"`
	NDCReview  string   `json:"ndc_review,omitempty"`
	Routes     []string `json:"routes"`
	UsualDoses []Dose   `json:"usual_doses"`
	Uncertain  string   `json:"uncertain,omitempty"`
	Sources    []string `json:"sources"`
}

// Orderable reports whether a PSO may ever name the product (given the
// clinic's enablement).
func (p Product) Orderable() bool {
	return p.Category != EmergencyCategory && !p.Imported && (p.FDAStatus.Approved() || p.FDAStatus.Compounded())
}

// Source is a cited source.
type Source struct {
	Citation   string `json:"citation"`
	URL        string `json:"url"`
	Confidence string `json:"confidence"`
}

// EmergencyCategory holds readiness stock, never ordered.
const EmergencyCategory = "emergency"

// Catalog is the loaded catalogue.
type Catalog struct {
	Version    string            `json:"version"`
	ReviewedOn string            `json:"reviewed_on"`
	Note       string            `json:"note"`
	Sources    map[string]Source `json:"sources"`
	Products   []Product         `json:"products"`

	byID  map[string]int
	names map[string][]int // normalized name → products
}

// Errors of Lookup.
var (
	// ErrUnknownProduct: no catalogue product has this id or name.
	ErrUnknownProduct = errors.New("catalog: unknown product")
	// ErrAmbiguousProduct: the name fits more than one product.
	ErrAmbiguousProduct = errors.New("catalog: ambiguous product")
)

//go:embed data/products.json
var defaultData []byte

// Default returns the embedded catalogue; it panics if the data is bad,
// which its test prevents.
func Default() *Catalog {
	c, err := Parse(defaultData)
	if err != nil {
		panic(err)
	}
	return c
}

// Parse reads and checks catalogue data strictly.
func Parse(data []byte) (*Catalog, error) {
	var c Catalog
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	c.byID = map[string]int{}
	c.names = map[string][]int{}
	for i, p := range c.Products {
		switch {
		case p.ID == "" || p.Name == "" || p.Category == "":
			return nil, fmt.Errorf("catalog: product %d needs id, name and category", i)
		case !p.FDAStatus.valid():
			return nil, fmt.Errorf("catalog: %s: unknown fda_status %q", p.ID, p.FDAStatus)
		case len(p.Sources) == 0:
			return nil, fmt.Errorf("catalog: %s has no source", p.ID)
		case p.Orderable() && len(p.Routes) == 0:
			return nil, fmt.Errorf("catalog: %s is orderable but has no labelled route", p.ID)
		}
		for _, s := range p.Sources {
			if _, ok := c.Sources[s]; !ok {
				return nil, fmt.Errorf("catalog: %s cites unknown source %q", p.ID, s)
			}
		}
		if err := c.checkNDCs(p); err != nil {
			return nil, err
		}
		if _, dup := c.byID[p.ID]; dup {
			return nil, fmt.Errorf("catalog: duplicate id %s", p.ID)
		}
		c.byID[p.ID] = i
		for _, n := range append([]string{p.ID, p.Name, p.Generic}, p.Aliases...) {
			k := normalize(n)
			if k != "" && !slices.Contains(c.names[k], i) {
				c.names[k] = append(c.names[k], i)
			}
		}
	}
	return &c, nil
}

// ndcShape is the FDA's 10-digit NDC: labeler-product-package as 4-4-2,
// 5-3-2 or 5-4-1 digits.
var ndcShape = regexp.MustCompile(`^(\d{4}-\d{4}-\d{2}|\d{5}-\d{3}-\d{2}|\d{5}-\d{4}-\d)$`)

// checkNDCs holds a product's NDCs to their shape and their source, and an
// approved drug or biologic without them to a stated review reason.
func (c *Catalog) checkNDCs(p Product) error {
	drug := p.FDAStatus == ApprovedDrug || p.FDAStatus == ApprovedBiologic
	switch {
	case len(p.NDCs) > 0 && !drug && !p.FDAStatus.Compounded():
		return fmt.Errorf("catalog: %s: only drugs and biologics carry NDCs (devices have UDIs)", p.ID)
	case len(p.NDCs) > 0 && p.NDCSource == "":
		return fmt.Errorf("catalog: %s lists NDCs without ndc_source", p.ID)
	case p.NDCSource != "" && c.Sources[p.NDCSource] == (Source{}):
		return fmt.Errorf("catalog: %s: ndc_source %q is not a source", p.ID, p.NDCSource)
	case drug && len(p.NDCs) == 0 && p.NDCReview == "":
		return fmt.Errorf("catalog: %s is an approved drug without NDCs and says not why (ndc_review)", p.ID)
	}
	labeler := ""
	for _, n := range p.NDCs {
		if !ndcShape.MatchString(n) {
			return fmt.Errorf("catalog: %s: NDC %q is not 10 digits as 4-4-2, 5-3-2 or 5-4-1", p.ID, n)
		}
		l, _, _ := strings.Cut(n, "-")
		if labeler != "" && l != labeler {
			return fmt.Errorf("catalog: %s: NDCs of different labelers (%s, %s)", p.ID, labeler, l)
		}
		labeler = l
	}
	return nil
}

// ByID returns the product with id.
func (c *Catalog) ByID(id string) (Product, bool) {
	i, ok := c.byID[id]
	if !ok {
		return Product{}, false
	}
	return c.Products[i], true
}

// Lookup resolves what a provider wrote to one product: a catalogue id, a
// brand, a generic name or an alias, or such names combined with
// parentheses, commas or slashes ("Botox (onabotulinumtoxinA)"). Every part
// must name the same product; generic names shared by several products
// only resolve together with a brand.
func (c *Catalog) Lookup(text string) (Product, error) {
	if i, ok := c.byID[strings.TrimSpace(text)]; ok {
		return c.Products[i], nil
	}
	if i, ok := c.one(c.names[normalize(text)]); ok {
		return c.Products[i], nil
	}
	parts := strings.FieldsFunc(text, func(r rune) bool { return strings.ContainsRune("(),;/[]", r) })
	var cands []int
	for n, part := range parts {
		k := normalize(part)
		if k == "" {
			continue
		}
		hits, ok := c.names[k]
		if !ok {
			return Product{}, ErrUnknownProduct
		}
		if n == 0 || cands == nil {
			cands = slices.Clone(hits)
			continue
		}
		cands = slices.DeleteFunc(cands, func(i int) bool { return !slices.Contains(hits, i) })
		if len(cands) == 0 {
			return Product{}, ErrAmbiguousProduct // names of different products
		}
	}
	if i, ok := c.one(cands); ok {
		return c.Products[i], nil
	}
	if len(cands) > 1 {
		return Product{}, ErrAmbiguousProduct
	}
	return Product{}, ErrUnknownProduct
}

func (c *Catalog) one(hits []int) (int, bool) {
	if len(hits) == 1 {
		return hits[0], true
	}
	return 0, false
}

// normalize lowercases and keeps letters and digits, so "Juvéderm Ultra
// XC", "juvederm-ultra xc" and "JUVEDERM ULTRA XC" compare equal.
func normalize(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch r {
		case 'é', 'è', 'ê':
			r = 'e'
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// InCategory lists the products of a category, in catalogue order.
func (c *Catalog) InCategory(category string) []Product {
	var out []Product
	for _, p := range c.Products {
		if p.Category == category {
			out = append(out, p)
		}
	}
	return out
}
