package pso

import (
	"fmt"
	"strings"
)

// productStatus is how an order's catalogue status reads on the PDF. A
// compounded product is called out: it is not FDA-approved, and only the
// medical director's explicit enablement lets a PSO name it.
func productStatus(status string) string {
	switch status {
	case "":
		return ""
	case "compounded_503a":
		return "COMPOUNDED (503A pharmacy), not FDA-approved; enabled by the clinic's medical director"
	case "compounded_503b":
		return "COMPOUNDED (503B outsourcing facility), not FDA-approved; enabled by the clinic's medical director"
	case "approved_drug":
		return "FDA-approved drug"
	case "approved_biologic":
		return "FDA-licensed biologic"
	case "device_approved":
		return "FDA-approved device (PMA)"
	case "device_cleared":
		return "FDA-cleared device"
	}
	return status
}

// protocolSection prints the protocols the orders followed.
func protocolSection(d Document, heading func(string), field func(label, value string)) {
	if len(d.Protocols) == 0 {
		return
	}
	heading("Protocols followed")
	for _, p := range d.Protocols {
		field(categoryName(p.Treatment), fmt.Sprintf("%s version %d, e-signed by medical director %s on %s",
			p.ID, p.Version, p.SignedBy, p.SignedAt.UTC().Format("2006-01-02")))
		dev := "None"
		if len(p.Deviations) > 0 {
			dev = strings.Join(p.Deviations, "; ")
		}
		field("Deviations", dev)
	}
}
