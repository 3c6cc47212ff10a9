package pso

import (
	"bytes"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ledongthuc/pdf"

	"github.com/goodfaith/goodfaith/internal/golden"
)

// checkGolden compares got with testdata/name (golden.Check).
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name), got)
}

func TestCanonicalJSONGolden(t *testing.T) {
	got, err := Canonical(testDoc())
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "canonical.json", got)

	// The same order in another time zone, with sub-second times, nil
	// lists and without the schema set encodes to the same bytes.
	same := testDoc()
	chicago := time.FixedZone("CST", -6*3600)
	same.IssuedAt = issued.In(chicago).Add(400 * time.Millisecond)
	same.Attestation.AcceptedAt = issued.In(chicago).Add(999 * time.Millisecond)
	same.Schema = ""
	again, _ := Canonical(same)
	if !bytes.Equal(again, got) {
		t.Fatalf("the same order encoded differently:\n%s\n%s", again, got)
	}
	empty, _ := Canonical(Document{Orders: []Order{{}}})
	for _, member := range []string{`"orders":[{`, `"areas":[]`, `"screened":[]`, `"flags":[]`} {
		if !strings.Contains(string(empty), member) {
			t.Errorf("canonical form of an empty document lacks %s: %s", member, empty)
		}
	}
	s1, _ := DocumentSHA256(testDoc())
	s2, _ := DocumentSHA256(same)
	if s1 != s2 || len(s1) != 64 {
		t.Fatalf("digests %s %s", s1, s2)
	}
}

// pdfText extracts the text of a PDF line by line with a Go PDF reader:
// glyphs on the same baseline form a line, top to bottom, and a gap wider
// than a fifth of the font size between glyphs is a space.
func pdfText(t *testing.T, b []byte) string {
	t.Helper()
	r, err := pdf.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for i := 1; i <= r.NumPage(); i++ {
		glyphs := r.Page(i).Content().Text
		sort.SliceStable(glyphs, func(a, b int) bool {
			ya, yb := math.Round(glyphs[a].Y), math.Round(glyphs[b].Y)
			if ya != yb {
				return ya > yb
			}
			return glyphs[a].X < glyphs[b].X
		})
		var line strings.Builder
		for j, g := range glyphs {
			if j > 0 {
				prev := glyphs[j-1]
				switch {
				case math.Round(prev.Y) != math.Round(g.Y):
					out.WriteString(strings.TrimSpace(line.String()) + "\n")
					line.Reset()
				case g.X-(prev.X+prev.W) > g.FontSize/5:
					line.WriteString(" ")
				}
			}
			line.WriteString(g.S)
		}
		out.WriteString(strings.TrimSpace(line.String()) + "\n---- end of page\n")
	}
	return out.String()
}

func pdfInput() PDFInput {
	return PDFInput{Doc: testDoc(), JWS: "eyJhbGciOiJFUzI1NiJ9.eyJwc28iOnt9fQ.c2ln", KeyID: "kid-abc", VerifyURL: "https://app.example.com/v1/psos/pso_1"}
}

func TestPDFTextGolden(t *testing.T) {
	b, err := RenderPDF(pdfInput())
	if err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, b)
	checkGolden(t, "pso.pdf.txt", []byte(text))
	// What a pharmacist or inspector needs is on it, whatever the layout.
	flat := strings.Join(strings.Fields(text), " ")
	for _, want := range []string{
		"Patient-Specific Order", "pso_1", "Maria García", "1990-04-12", "12 Elm St, Austin, TX 78701",
		"Glow Med Spa", "1. Neurotoxin: Botox (onabotulinumtoxinA)", "20 units", "IM", "glabella, forehead",
		"every 12 weeks as needed", "1 vial (100 units)", "Refills 2", "180 days",
		"Pregnancy status not known", "Discussed risks.", "Dana Reyes, MD", "TX MD TX-Q1234", "1234567893",
		"2027-05-21", "2026-11-22 15:00", "kid-abc", "https://app.example.com/v1/psos/pso_1", "page 1 of",
	} {
		if !strings.Contains(flat, want) {
			t.Errorf("the PDF's text lacks %q", want)
		}
	}
	if n := strings.Count(text, "---- end of page"); n < 1 || n > 2 {
		t.Errorf("%d pages, want one or two", n)
	}
}

func TestPDFIsDeterministicAndCarriesTheJWS(t *testing.T) {
	a, err := RenderPDF(pdfInput())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := RenderPDF(pdfInput())
	if !bytes.Equal(a, b) {
		t.Fatal("the same order rendered two different PDFs")
	}
	if jws, err := ExtractJWS(a); err != nil || jws != pdfInput().JWS {
		t.Fatalf("ExtractJWS = %q, %v", jws, err)
	}
	for name, bad := range map[string][]byte{"empty": nil, "text": []byte("%PDF-1.4 nonsense"), "truncated": a[:len(a)/2]} {
		if _, err := ExtractJWS(bad); err == nil {
			t.Errorf("%s: a JWS was found", name)
		}
	}
}

func TestPDFOfManyOrdersStaysReadable(t *testing.T) {
	in := pdfInput()
	for i := range 5 {
		o := in.Doc.Orders[0]
		o.Product = "Product " + string(rune('A'+i))
		in.Doc.Orders = append(in.Doc.Orders, o)
	}
	b, err := RenderPDF(in)
	if err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, b)
	if !strings.Contains(text, "Product E") || !strings.Contains(strings.Join(strings.Fields(text), " "), in.VerifyURL) {
		t.Fatalf("orders or the link went missing over pages:\n%s", text)
	}
}
