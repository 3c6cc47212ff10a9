package pso

import (
	"bufio"
	"bytes"
	"embed"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/go-pdf/fpdf"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
)

// The PDF's fonts. fpdf embeds a Unicode (UTF-8) font by parsing the whole
// TrueType file, hashing a 65,536-entry width table, subsetting it and
// compressing a 128 KiB glyph map — for every document: that was four
// fifths of RenderPDF's time and a third of the embedded server's CPU in a
// load run. Nearly every order's text is in Windows-1252 (the Latin
// alphabets of the US patients' names, accents included), so the Go fonts,
// cut down to those characters, are also kept as ready-made single-byte
// fonts (fonts/*.json and *.z, made by TestWinAnsiFontsAreFresh -update
// with fpdf.UTF8CutFont and fpdf.MakeFont): the same glyphs, embedded as
// they are. A document with any other character is drawn with the Unicode
// fonts as before.

//go:embed fonts/goregular.json fonts/goregular.z fonts/gobold.json fonts/gobold.z fonts/cp1252.map
var fontFiles embed.FS

// pdfFonts is one way to draw the document's text.
type pdfFonts struct {
	add func(pdf *fpdf.Fpdf)
	// encode returns s as the fonts take it, and false when a character
	// of s has no place in their encoding.
	encode func(s string) (string, bool)
}

// unicodeFonts draws any character the Go fonts have.
var unicodeFonts = pdfFonts{
	add: func(pdf *fpdf.Fpdf) {
		pdf.AddUTF8FontFromBytes("go", "", goregular.TTF)
		pdf.AddUTF8FontFromBytes("go", "B", gobold.TTF)
	},
	encode: func(s string) (string, bool) { return s, true },
}

// winAnsiFonts draws the characters of Windows-1252 only.
var winAnsiFonts = pdfFonts{
	add: func(pdf *fpdf.Fpdf) {
		for _, f := range []struct{ style, name string }{{"", "goregular"}, {"B", "gobold"}} {
			def, _ := fontFiles.ReadFile("fonts/" + f.name + ".json")
			z, _ := fontFiles.ReadFile("fonts/" + f.name + ".z")
			pdf.AddFontFromBytes("go", f.style, def, z)
		}
	},
	encode: encodeWinAnsi,
}

// winAnsi maps each character of Windows-1252 above ASCII to its byte.
var winAnsi = sync.OnceValue(func() map[rune]byte {
	m, err := parseCodePage(mustRead("fonts/cp1252.map"))
	if err != nil {
		panic(err) // an embedded file: a broken build, not a runtime condition
	}
	return m
})

func encodeWinAnsi(s string) (string, bool) {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return s, true
	}
	table := winAnsi()
	out := make([]byte, 0, len(s))
	for _, r := range s {
		if r < utf8.RuneSelf {
			out = append(out, byte(r))
			continue
		}
		b, ok := table[r]
		if !ok {
			return "", false
		}
		out = append(out, b)
	}
	return string(out), true
}

// parseCodePage reads fpdf's code page map ("!E9 U+00E9 eacute" a line)
// into the bytes of the characters above ASCII.
func parseCodePage(b []byte) (map[rune]byte, error) {
	m := map[rune]byte{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 || !strings.HasPrefix(f[0], "!") || !strings.HasPrefix(f[1], "U+") {
			return nil, fmt.Errorf("pso: code page line %q", sc.Text())
		}
		code, err1 := strconv.ParseUint(f[0][1:], 16, 8)
		r, err2 := strconv.ParseUint(f[1][2:], 16, 32)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("pso: code page line %q", sc.Text())
		}
		if code >= utf8.RuneSelf && f[2] != ".notdef" {
			m[rune(r)] = byte(code)
		}
	}
	return m, sc.Err()
}

func mustRead(name string) []byte {
	b, err := fontFiles.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return b
}
