package pso

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// protocolDoc is testDoc following a signed protocol, with a deviation and
// a compounded product.
func protocolDoc() Document {
	d := testDoc()
	d.Orders[0].ProductID = "semaglutide_compounded_503a"
	d.Orders[0].FDAStatus = "compounded_503a"
	d.Protocols = []ProtocolRef{{ID: "proto_clinic_a_glp1", Treatment: "glp1", Version: 3, SignedBy: "md_a",
		SignedAt: time.Date(2026, 10, 1, 9, 30, 0, 0, time.UTC), SHA256: strings.Repeat("ab", 32),
		Deviations: []string{"dose: protocol 0.25 mg, ordered 0.5 mg"}}}
	return d
}

func TestCanonicalWithProtocolGolden(t *testing.T) {
	got, err := Canonical(protocolDoc())
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "canonical_protocol.json", got)
	for _, want := range []string{`"product_id":"semaglutide_compounded_503a","fda_status":"compounded_503a"`, `"protocols":[{"id":"proto_clinic_a_glp1","treatment":"glp1","version":3`, `"deviations":["dose:`} {
		if !bytes.Contains(got, []byte(want)) {
			t.Errorf("canonical form lacks %s", want)
		}
	}
	// Without protocols or catalogue fields, a document encodes exactly as
	// before they existed (canonical.json is unchanged).
	plain, _ := Canonical(testDoc())
	if bytes.Contains(plain, []byte("protocols")) || bytes.Contains(plain, []byte("product_id")) {
		t.Fatalf("empty new fields are encoded: %s", plain)
	}
}

func TestPDFShowsProtocolAndCompounded(t *testing.T) {
	in := pdfInput()
	in.Doc = protocolDoc()
	b, err := RenderPDF(in)
	if err != nil {
		t.Fatal(err)
	}
	flat := strings.Join(strings.Fields(pdfText(t, b)), " ")
	for _, want := range []string{"COMPOUNDED (503A pharmacy)", "Protocols followed", "proto_clinic_a_glp1 version 3", "md_a", "2026-10-01", "dose: protocol 0.25 mg, ordered 0.5 mg"} {
		if !strings.Contains(flat, want) {
			t.Errorf("PDF lacks %q:\n%s", want, flat)
		}
	}
}
