package main

import "github.com/goodfaith/goodfaith/internal/catalog"

var products = catalog.Default()

// orderFor names a catalogue product a clinic may order for a treatment
// (the first FDA-approved or cleared one) and its first labelled route: an
// approval naming anything else answers 422 (issue 11).
func orderFor(treatment string) (product, route string) {
	for _, p := range products.InCategory(treatment) {
		if p.Orderable() && p.FDAStatus.Approved() {
			return p.ID, p.Routes[0]
		}
	}
	return "no catalogue product for " + treatment, "none"
}
