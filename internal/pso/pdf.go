package pso

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/go-pdf/fpdf"
	"github.com/skip2/go-qrcode"
)

// AttachmentName is the name of the signed order (the compact JWS) inside
// the PDF, where the verification tool looks for it.
const AttachmentName = "pso.jws"

// PDFInput is what the human-readable order shows.
type PDFInput struct {
	Doc       Document
	JWS       string // the signed order, attached to the PDF and digested on it
	KeyID     string
	VerifyURL string // printed and encoded in the QR code; may be empty
}

// categoryNames are the treatment categories as a pharmacist reads them.
var categoryNames = map[string]string{
	"neurotoxin": "Neurotoxin", "dermal_filler": "Dermal filler", "laser_energy": "Laser / energy device",
	"iv_therapy": "IV therapy", "glp1": "GLP-1 receptor agonist", "peptide": "Peptide therapy",
	"testosterone": "Testosterone (Schedule III)",
}

func categoryName(c string) string {
	if n, ok := categoryNames[c]; ok {
		return n
	}
	return c
}

// RenderPDF lays out the order on US Letter pages: patient, clinic, each
// order, the history review, the prescriber and their licence, the
// attestation, the signature's key and digest, and the verification link
// with its QR code. The signed JWS travels inside as the attachment
// AttachmentName. The output depends only on the input (fixed dates, sorted
// catalog, embedded Go fonts), so a retried approval renders the same bytes.
// The text is drawn with the single-byte Windows-1252 fonts when every
// character fits them, else with the Unicode fonts (pdffont.go).
func RenderPDF(in PDFInput) ([]byte, error) {
	if b, fits, err := renderPDF(in, winAnsiFonts); fits || err != nil {
		return b, err
	}
	b, _, err := renderPDF(in, unicodeFonts)
	return b, err
}

// renderPDF lays the order out with fonts; fits is false (and nothing is
// returned) when some of the text has no place in the fonts' encoding.
func renderPDF(in PDFInput, fonts pdfFonts) (out []byte, fits bool, err error) {
	d := normalize(in.Doc)
	fits = true
	tx := func(s string) string {
		enc, ok := fonts.encode(s)
		fits = fits && ok
		return enc
	}
	pdf := fpdf.New("P", "mm", "Letter", "")
	pdf.SetCompression(true)
	pdf.SetCatalogSort(true)
	pdf.SetCreationDate(d.IssuedAt)
	pdf.SetModificationDate(d.IssuedAt)
	pdf.SetProducer("Goodfaith", true)
	pdf.SetTitle("Patient-Specific Order "+d.ID, true)
	pdf.SetAuthor(d.Provider.Name+", "+d.Provider.Credential, true)
	fonts.add(pdf)
	pdf.SetMargins(18, 16, 18)
	pdf.SetAutoPageBreak(true, 18)
	pdf.AliasNbPages("{nb}")
	pdf.SetFooterFunc(func() {
		pdf.SetY(-13)
		pdf.SetFont("go", "", 7.5)
		pdf.SetTextColor(90, 90, 90)
		pdf.CellFormat(0, 4, tx(fmt.Sprintf("%s · page %d of {nb}", d.ID, pdf.PageNo())), "", 0, "C", false, 0, "")
		pdf.SetTextColor(0, 0, 0)
	})
	pdf.SetAttachments([]fpdf.Attachment{{Content: []byte(in.JWS), Filename: AttachmentName, Description: "Signed order (compact JWS, ES256)"}})
	pdf.AddPage()

	width, _ := pdf.GetPageSize()
	left, _, right, _ := pdf.GetMargins()
	textW := width - left - right

	pdf.SetFont("go", "B", 17)
	pdf.CellFormat(textW, 9, tx("Patient-Specific Order"), "", 1, "L", false, 0, "")
	pdf.SetFont("go", "", 9)
	pdf.CellFormat(textW, 5, tx("Order "+d.ID+"   ·   exam "+d.ExamID), "", 1, "L", false, 0, "")
	pdf.CellFormat(textW, 5, tx("Issued "+d.IssuedAt.Format("2006-01-02 15:04 UTC")+"   ·   valid until "+d.ValidUntil+" (inclusive)"), "", 1, "L", false, 0, "")
	pdf.Ln(2)
	pdf.SetDrawColor(150, 150, 150)
	pdf.Line(left, pdf.GetY(), width-right, pdf.GetY())
	pdf.Ln(3)

	heading := func(s string) {
		pdf.Ln(1.5)
		pdf.SetFont("go", "B", 11)
		pdf.CellFormat(textW, 6, tx(s), "", 1, "L", false, 0, "")
	}
	field := func(label, value string) {
		if value == "" {
			return
		}
		pdf.SetFont("go", "B", 9)
		pdf.CellFormat(38, 5, tx(label), "", 0, "L", false, 0, "")
		pdf.SetFont("go", "", 9)
		pdf.MultiCell(textW-38, 5, tx(value), "", "L", false)
	}

	heading("Patient")
	field("Name", d.Patient.FirstName+" "+d.Patient.LastName)
	field("Date of birth", d.Patient.DOB)
	if a := d.Patient.Address; a != nil {
		addr := a.Line1
		if a.Line2 != "" {
			addr += ", " + a.Line2
		}
		field("Address", addr+", "+a.City+", "+a.State+" "+a.PostalCode)
	}
	field("Examined in", d.Patient.State)

	heading("Clinic")
	field("Name", d.Clinic.Name)
	field("Clinic id", d.Clinic.ID)

	heading("Orders")
	for i, o := range d.Orders {
		pdf.SetFont("go", "B", 9.5)
		pdf.CellFormat(textW, 5.5, tx(fmt.Sprintf("%d. %s: %s", i+1, categoryName(o.Treatment), o.Product)), "", 1, "L", false, 0, "")
		field("Dose", o.Dose)
		field("Route", o.Route)
		field("Treatment areas", strings.Join(o.Areas, ", "))
		field("Frequency", o.Frequency)
		field("Quantity", o.Quantity)
		field("Refills", fmt.Sprint(o.Refills))
		field("Order valid for", fmt.Sprintf("%d days", o.ValidDays))
		field("Product status", productStatus(o.FDAStatus)) // protocolpdf.go
	}
	protocolSection(d, heading, field) // protocolpdf.go

	heading("Medical history review")
	screened := make([]string, len(d.Findings.Screened))
	for i, c := range d.Findings.Screened {
		screened[i] = categoryName(c)
	}
	field("Screened for", strings.Join(screened, ", ")+" contraindications")
	flags := "None raised"
	if len(d.Findings.Flags) > 0 {
		parts := make([]string, len(d.Findings.Flags))
		for i, f := range d.Findings.Flags {
			parts[i] = f.Display + " (" + f.Code + ")"
		}
		flags = strings.Join(parts, "; ")
	}
	field("Findings", flags)
	field("Provider notes", d.Findings.Notes)

	heading("Prescriber")
	field("Name", d.Provider.Name+", "+d.Provider.Credential)
	field("Licence", d.Provider.LicenseState+" "+d.Provider.LicenseType+" "+d.Provider.LicenseNumber)
	field("NPI", d.Provider.NPI)
	field("DEA registration", d.Provider.DEANumber)

	heading("Attestation")
	pdf.SetFont("go", "", 9)
	pdf.MultiCell(textW, 4.8, tx(d.Attestation.Text), "", "L", false)
	field("Accepted", d.Attestation.AcceptedAt.Format("2006-01-02 15:04:05 UTC")+" by "+d.Provider.Name)

	heading("Electronic signature and verification")
	sum := sha256Hex([]byte(in.JWS))
	pdf.SetFont("go", "", 8.5)
	pdf.MultiCell(textW, 4.5, tx("This order is signed (JWS, ES256) with key "+in.KeyID+". The signed order is attached to this PDF as "+
		AttachmentName+"; its SHA-256 is "+sum+". Anyone can check it against the public keys at /.well-known/jwks.json, offline, "+
		"or online at the address below."), "", "L", false)
	if in.VerifyURL != "" {
		qr, err := qrcode.New(in.VerifyURL, qrcode.Medium)
		if err != nil {
			return nil, false, fmt.Errorf("pso: QR code: %w", err)
		}
		if pdf.GetY()+36 > 279.4-18 {
			pdf.AddPage()
		}
		y := pdf.GetY() + 1.5
		drawQR(pdf, qr.Bitmap(), left, y, 32)
		pdf.LinkString(left, y, 32, 32, in.VerifyURL)
		pdf.SetXY(left+36, y+10)
		pdf.SetFont("go", "B", 9)
		pdf.CellFormat(textW-36, 5, tx("Verify this order"), "", 2, "L", false, 0, "")
		pdf.SetFont("go", "", 9)
		pdf.CellFormat(textW-36, 5, tx(in.VerifyURL), "", 2, "L", false, 0, in.VerifyURL)
		pdf.SetY(y + 33)
	}
	if !fits {
		return nil, false, nil
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, true, fmt.Errorf("pso: render PDF: %w", err)
	}
	// The footer is drawn as each page closes, the last one inside Output.
	if !fits {
		return nil, false, nil
	}
	return buf.Bytes(), true, nil
}

// drawQR draws a QR code's modules (quiet zone included) as filled
// rectangles, one per run of dark modules in a row: vector, so it is sharp
// at any zoom, and much cheaper than encoding a PNG for fpdf to decode.
func drawQR(pdf *fpdf.Fpdf, bm [][]bool, x, y, size float64) {
	r, g, b := pdf.GetFillColor()
	pdf.SetFillColor(0, 0, 0)
	cell := size / float64(len(bm))
	for row, line := range bm {
		for col := 0; col < len(line); {
			if !line[col] {
				col++
				continue
			}
			start := col
			for col < len(line) && line[col] {
				col++
			}
			pdf.Rect(x+float64(start)*cell, y+float64(row)*cell, float64(col-start)*cell, cell, "F")
		}
	}
	pdf.SetFillColor(r, g, b)
}
