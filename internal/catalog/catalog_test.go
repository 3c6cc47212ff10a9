package catalog

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

func TestDefaultCatalogue(t *testing.T) {
	c := Default()
	if c.Version == "" || c.ReviewedOn == "" {
		t.Fatal("catalogue needs version and reviewed_on")
	}
	for _, generic := range []string{"onabotulinumtoxinA", "abobotulinumtoxinA", "incobotulinumtoxinA", "prabotulinumtoxinA", "daxibotulinumtoxinA", "letibotulinumtoxinA"} {
		p, err := c.Lookup(generic)
		if err != nil || p.Category != "neurotoxin" || p.FDAStatus != ApprovedBiologic || !p.Orderable() {
			t.Errorf("%s: %+v %v", generic, p, err)
		}
	}
	for _, name := range []string{"Wegovy", "Ozempic", "Zepbound", "Mounjaro", "Depo-Testosterone", "Juvederm Voluma XC", "Restylane-L"} {
		if p, err := c.Lookup(name); err != nil || !p.FDAStatus.Approved() {
			t.Errorf("%s: %+v %v", name, p, err)
		}
	}
	for _, p := range c.Products {
		if p.FDAStatus.Approved() && p.Category != EmergencyCategory && len(p.UsualDoses) == 0 {
			t.Errorf("%s: approved product without usual doses", p.ID)
		}
		if (p.FDAStatus.Compounded() || p.FDAStatus == NotApproved) && p.Uncertain == "" {
			t.Errorf("%s: compounded/unapproved product must say why it is listed", p.ID)
		}
	}
}

func TestLookup(t *testing.T) {
	c := Default()
	cases := map[string]string{
		"Botox":                               "onabotulinumtoxina_botox_cosmetic",
		"Botox (onabotulinumtoxinA)":          "onabotulinumtoxina_botox_cosmetic",
		"onabotulinumtoxinA (Botox Cosmetic)": "onabotulinumtoxina_botox_cosmetic",
		"  JUVÉDERM Ultra XC ":                "ha_juvederm_ultra_xc",
		"tirzepatide_zepbound":                "tirzepatide_zepbound",
		"Zepbound (tirzepatide)":              "tirzepatide_zepbound",
		"Botulax":                             "botulinum_toxin_imported_unapproved",
	}
	for in, want := range cases {
		p, err := c.Lookup(in)
		if err != nil || p.ID != want {
			t.Errorf("Lookup(%q) = %s, %v; want %s", in, p.ID, err, want)
		}
	}
	for _, in := range []string{"", "x", "Botox (tirzepatide)", "Snake oil", "Botox (snake oil)"} {
		if p, err := c.Lookup(in); err == nil {
			t.Errorf("Lookup(%q) = %s, want an error", in, p.ID)
		}
	}
	// semaglutide alone names Wegovy, Ozempic, Rybelsus: ambiguous.
	if _, err := c.Lookup("semaglutide"); !errors.Is(err, ErrAmbiguousProduct) {
		t.Errorf("semaglutide: %v", err)
	}
	for _, id := range []string{"bpc_157", "botulinum_toxin_imported_unapproved", "hyaluronidase_hylenex"} {
		if p, _ := c.ByID(id); p.Orderable() {
			t.Errorf("%s must not be orderable", id)
		}
	}
	if p, _ := c.ByID("semaglutide_compounded_503a"); !p.Orderable() || !p.FDAStatus.Compounded() {
		t.Errorf("compounded semaglutide: %+v", p)
	}
}

func TestParseRefusesBadData(t *testing.T) {
	for name, data := range map[string]string{
		"unknown field":  `{"products":[],"extra":1}`,
		"no source":      `{"sources":{},"products":[{"id":"a","name":"A","category":"neurotoxin","fda_status":"approved_drug","routes":["im"],"sources":[]}]}`,
		"unknown source": `{"sources":{},"products":[{"id":"a","name":"A","category":"neurotoxin","fda_status":"approved_drug","routes":["im"],"sources":["x"]}]}`,
		"bad status":     `{"sources":{"s":{}},"products":[{"id":"a","name":"A","category":"neurotoxin","fda_status":"maybe","routes":["im"],"sources":["s"]}]}`,
		"no route":       `{"sources":{"s":{}},"products":[{"id":"a","name":"A","category":"neurotoxin","fda_status":"approved_drug","routes":[],"sources":["s"]}]}`,
		"duplicate":      `{"sources":{"s":{}},"products":[{"id":"a","name":"A","category":"c","fda_status":"not_approved","sources":["s"]},{"id":"a","name":"B","category":"c","fda_status":"not_approved","sources":["s"]}]}`,
	} {
		if _, err := Parse([]byte(data)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestNDCData: every NDC in the catalogue has the FDA's 10-digit
// labeler-product-package shape (4-4-2, 5-3-2 or 5-4-1) and a cited source;
// an approved drug or biologic without NDCs says why, so its review status
// stays visible; and the NDCs found for the GLP-1 brands are there.
func TestNDCData(t *testing.T) {
	c := Default()
	shape := regexp.MustCompile(`^(\d{4}-\d{4}-\d{2}|\d{5}-\d{3}-\d{2}|\d{5}-\d{4}-\d)$`)
	withNDC := 0
	for _, p := range c.Products {
		for _, n := range p.NDCs {
			if !shape.MatchString(n) || len(strings.ReplaceAll(n, "-", "")) != 10 {
				t.Errorf("%s: NDC %q is not 4-4-2, 5-3-2 or 5-4-1", p.ID, n)
			}
		}
		if len(p.NDCs) > 0 {
			withNDC++
			if s, ok := c.Sources[p.NDCSource]; !ok || s.URL == "" {
				t.Errorf("%s: NDCs without a cited source with a URL (%q)", p.ID, p.NDCSource)
			}
		}
		if (p.FDAStatus == ApprovedDrug || p.FDAStatus == ApprovedBiologic) && len(p.NDCs) == 0 && !strings.Contains(p.NDCReview, "review") {
			t.Errorf("%s: approved drug without NDCs must say it needs review: %q", p.ID, p.NDCReview)
		}
	}
	for _, id := range []string{"semaglutide_wegovy", "semaglutide_ozempic", "tirzepatide_zepbound", "tirzepatide_mounjaro"} {
		if p, _ := c.ByID(id); len(p.NDCs) == 0 {
			t.Errorf("%s: no NDCs", id)
		}
	}
	if withNDC == 0 {
		t.Fatal("no product carries an NDC")
	}
}

func TestParseRefusesBadNDCs(t *testing.T) {
	product := func(extra string) string {
		return `{"sources":{"s":{"url":"https://example.org"}},"products":[{"id":"a","name":"A","category":"glp1","fda_status":"approved_drug","routes":["sc"],"sources":["s"]` + extra + `}]}`
	}
	if _, err := Parse([]byte(product(`,"ndcs":["0169-4525-14"],"ndc_source":"s"`))); err != nil {
		t.Fatalf("a good NDC: %v", err)
	}
	for name, extra := range map[string]string{
		"11 digits":      `,"ndcs":["15054-0500-01"],"ndc_source":"s"`,
		"product code":   `,"ndcs":["0023-9232"],"ndc_source":"s"`,
		"3-4-3":          `,"ndcs":["016-9452-514"],"ndc_source":"s"`,
		"letters":        `,"ndcs":["0169-45x5-14"],"ndc_source":"s"`,
		"no source":      `,"ndcs":["0169-4525-14"]`,
		"unknown source": `,"ndcs":["0169-4525-14"],"ndc_source":"nope"`,
		"two labelers":   `,"ndcs":["0169-4525-14","0002-1152-01"],"ndc_source":"s"`,
		"silent, no NDC": ``,
	} {
		if _, err := Parse([]byte(product(extra))); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	device := `{"sources":{"s":{"url":"u"}},"products":[{"id":"f","name":"F","category":"dermal_filler","fda_status":"device_approved","routes":["sc"],"sources":["s"],"ndcs":["0169-4525-14"],"ndc_source":"s"}]}`
	if _, err := Parse([]byte(device)); err == nil {
		t.Error("a device with an NDC: accepted")
	}
}
