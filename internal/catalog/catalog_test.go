package catalog

import (
	"errors"
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
