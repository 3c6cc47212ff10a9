package pso

import (
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Schema names the document version; a reader refuses schemas it does not
// know.
const Schema = "goodfaith.pso/v1"

// IssuerName is the iss claim of every PSO.
const IssuerName = "goodfaith"

// Document is the order, schema goodfaith.pso/v1. Its JSON form is
// canonical (see Canonical): field order is fixed by the struct, times are
// whole seconds in UTC and lists are never null, so the same order always
// encodes, and hashes, to the same bytes.
type Document struct {
	Schema       string      `json:"schema"`
	ID           string      `json:"id"`
	ExamID       string      `json:"exam_id"`
	Clinic       Party       `json:"clinic"`
	Patient      Patient     `json:"patient"`
	Provider     Prescriber  `json:"provider"`
	Orders       []Order     `json:"orders"`
	Findings     Findings    `json:"findings"`
	Attestation  Attestation `json:"attestation"`
	IssuedAt     time.Time   `json:"issued_at"`
	ValidUntil   string      `json:"valid_until"` // YYYY-MM-DD, last valid day
	RulesVersion string      `json:"rules_version"`
	// Protocols are the medical director's signed protocols the orders
	// followed, with any deviation from their standing orders; absent when
	// the clinic has none for the treatments ordered.
	Protocols []ProtocolRef `json:"protocols,omitempty"`
}

// ProtocolRef cites one version of a clinic's protocol, e-signed by its
// medical director, and how the orders deviated from its standing order.
type ProtocolRef struct {
	ID         string    `json:"id"`
	Treatment  string    `json:"treatment"`
	Version    int       `json:"version"`
	SignedBy   string    `json:"signed_by"` // the medical director's id
	SignedAt   time.Time `json:"signed_at"`
	SHA256     string    `json:"sha256"`               // of the signed protocol text and standing order
	Deviations []string  `json:"deviations,omitempty"` // e.g. "dose: protocol 20 units, ordered 30 units"
}

// Party names an organisation.
type Party struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Patient identifies the patient the order is for.
type Patient struct {
	FirstName string   `json:"first_name"`
	LastName  string   `json:"last_name"`
	DOB       string   `json:"dob"`
	State     string   `json:"state"` // where the patient was when examined
	Address   *Address `json:"address,omitempty"`
}

// Address is a US postal address, carried when the patient gave one (a
// controlled-substance order needs it: 21 CFR 1306.05).
type Address struct {
	Line1      string `json:"line1"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city"`
	State      string `json:"state"`
	PostalCode string `json:"postal_code"`
}

// Prescriber identifies the provider and the licence they acted under.
type Prescriber struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	Credential    string `json:"credential"`
	NPI           string `json:"npi"`
	LicenseState  string `json:"license_state"`
	LicenseType   string `json:"license_type"`
	LicenseNumber string `json:"license_number"`
	DEANumber     string `json:"dea_number,omitempty"` // only when an order is for a controlled substance
}

// Order is one treatment ordered.
type Order struct {
	Treatment string   `json:"treatment"`
	Product   string   `json:"product"`
	Dose      string   `json:"dose"`
	Route     string   `json:"route"`
	Areas     []string `json:"areas"`
	Frequency string   `json:"frequency,omitempty"`
	Quantity  string   `json:"quantity,omitempty"`
	Refills   int      `json:"refills"`
	ValidDays int      `json:"valid_days"`
	// ProductID is the catalogue product the order names, and FDAStatus
	// its status (e.g. "compounded_503a", shown as such on the PDF);
	// absent on orders issued before the catalogue.
	ProductID string `json:"product_id,omitempty"`
	FDAStatus string `json:"fda_status,omitempty"`
}

// Findings are what the provider reviewed: which treatments' histories
// were screened for contraindications, the flags the answers raised, and
// the provider's notes.
type Findings struct {
	Screened []string `json:"screened"` // treatment categories whose questionnaires were answered
	Flags    []Flag   `json:"flags"`    // contraindications and cautions raised; empty when none
	Notes    string   `json:"notes,omitempty"`
}

// Flag is one contraindication or caution the answers raised.
type Flag struct {
	Code    string `json:"code"`
	Display string `json:"display"`
}

// Attestation is the provider's statement and when it was accepted.
type Attestation struct {
	Text       string    `json:"text"`
	AcceptedAt time.Time `json:"accepted_at"`
}

// AttestationText is what a provider attests by approving.
const AttestationText = "I have reviewed this patient's medical history, screened for contraindications, " +
	"and determined that the treatments ordered are appropriate for this patient, as a provider licensed in the patient's state."

// Claims is the JWS payload: registered claims plus the document.
type Claims struct {
	jwt.RegisteredClaims
	PSO Document `json:"pso"`
}
