package pso

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-pdf/fpdf"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"

	"github.com/goodfaith/goodfaith/internal/golden"
)

// makeWinAnsiFonts makes the single-byte fonts of pdffont.go into dir: the
// Go fonts cut down to the characters of Windows-1252 (fpdf.UTF8CutFont),
// then made into fpdf font definitions with the font file compressed
// (fpdf.MakeFont with the code page map kept in fonts/).
func makeWinAnsiFonts(t *testing.T, dir string) {
	t.Helper()
	cpMap := filepath.Join(dir, "cp1252.map")
	if err := os.WriteFile(cpMap, mustRead("fonts/cp1252.map"), 0o644); err != nil {
		t.Fatal(err)
	}
	var charset strings.Builder
	for r := range winAnsi() {
		charset.WriteRune(r)
	}
	for r := rune(0x20); r < 0x7f; r++ {
		charset.WriteRune(r)
	}
	for name, ttf := range map[string][]byte{"goregular": goregular.TTF, "gobold": gobold.TTF} {
		cut := filepath.Join(dir, name+".ttf")
		if err := os.WriteFile(cut, fpdf.UTF8CutFont(ttf, charset.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := fpdf.MakeFont(cut, cpMap, dir, nil, true); err != nil {
			t.Fatal(err)
		}
	}
}

// The committed single-byte fonts are what makeWinAnsiFonts makes from the
// Go fonts of this build (go test -update ./internal/pso/ remakes them).
func TestWinAnsiFontsAreFresh(t *testing.T) {
	dir := t.TempDir()
	makeWinAnsiFonts(t, dir)
	for _, name := range []string{"goregular.json", "goregular.z", "gobold.json", "gobold.z"} {
		made, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		golden.Check(t, filepath.Join("fonts", name), made)
	}
}

// An order in Windows-1252 text, accents included, is drawn with the
// single-byte fonts; one with any other character falls back to the
// Unicode fonts; both read back as written and render the same bytes twice.
func TestPDFFontsFollowTheText(t *testing.T) {
	for _, tc := range []struct {
		first, last, notes string
		subtype            string   // of the fonts drawn with
		readable           []string // the test's PDF reader decodes only the low byte of characters past U+00FF
	}{
		{"Zoë", "Núñez-O’Brien", "Façade “done” — €40 café", "/Subtype /TrueType", []string{"Zoë Núñez-O’Brien", "Façade “done” — €40 café"}},
		{"Nguyễn", "Thị Ánh", "Ελένη: dose ok", "/Subtype /Type0", []string{"Ánh", ": dose ok"}},
	} {
		in := pdfInput()
		in.Doc.Patient.FirstName, in.Doc.Patient.LastName, in.Doc.Findings.Notes = tc.first, tc.last, tc.notes
		b, err := RenderPDF(in)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := RenderPDF(in)
		if !bytes.Equal(b, again) {
			t.Errorf("%s: two renders differ", tc.first)
		}
		if !bytes.Contains(b, []byte(tc.subtype)) {
			t.Errorf("%s: the PDF's fonts are not %s", tc.first, tc.subtype)
		}
		flat := strings.Join(strings.Fields(pdfText(t, b)), " ")
		for _, want := range append(tc.readable, "Dana Reyes, MD", "pso_1 · page 1 of") {
			if !strings.Contains(flat, want) {
				t.Errorf("%s: the PDF's text lacks %q:\n%s", tc.first, want, flat)
			}
		}
	}
}

func TestEncodeWinAnsi(t *testing.T) {
	for in, want := range map[string]string{"plain": "plain", "García €5 – ok": "Garc\xeda \x805 \x96 ok", "": ""} {
		if got, ok := encodeWinAnsi(in); !ok || got != want {
			t.Errorf("encodeWinAnsi(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"Nguyễn", "Ελένη", "emoji 🙂", "\u0081"} {
		if got, ok := encodeWinAnsi(in); ok {
			t.Errorf("encodeWinAnsi(%q) = %q, true; want false", in, got)
		}
	}
}
