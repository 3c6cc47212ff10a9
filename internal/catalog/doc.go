// Package catalog is the product catalogue: the products a PSO may order,
// as versioned data (data/products.json) with each product's category, FDA
// status, labelled routes, usual doses and sources.
//
// A product's FDA status decides what may happen with it:
//   - approved_drug, approved_biologic, device_approved, device_cleared:
//     orderable once the clinic has it enabled (every such product is
//     enabled by default until the medical director sets a formulary);
//   - compounded_503a, compounded_503b: orderable only after the medical
//     director enables it explicitly, and shown as compounded on the PSO;
//   - not_approved (including imported, foreign-labelled products): never
//     orderable; listed so that an order naming one is refused by name.
//
// Products of category "emergency" (e.g. hyaluronidase) are catalogued for
// readiness, not for ordering.
//
// NDCs are recorded only as found in a cited source, in the FDA's 10-digit
// form (4-4-2, 5-3-2 or 5-4-1, checked when the data is parsed); an approved
// drug or biologic without them, or with a partial list, carries an
// ndc_review saying so, for the medical director's review.
//
// Lookup resolves what a provider typed ("Botox", "Botox (onabotulinumtoxinA)",
// a catalogue id) to one product, or reports ErrUnknownProduct.
package catalog
