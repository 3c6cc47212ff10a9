package pso

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goodfaith/goodfaith/internal/blob"
	"github.com/goodfaith/goodfaith/internal/blob/dirblob"
	"github.com/goodfaith/goodfaith/internal/jwk"
	"github.com/goodfaith/goodfaith/internal/signer"
	"github.com/goodfaith/goodfaith/internal/store"
	"github.com/goodfaith/goodfaith/internal/store/boltstore"
)

var issued = time.Date(2026, 11, 22, 15, 0, 0, 0, time.UTC)

// testDoc is a complete order, as exam.Service builds one.
func testDoc() Document {
	return Document{
		ID: "pso_1", ExamID: "exam_1", Clinic: Party{ID: "clinic_a", Name: "Glow Med Spa"},
		Patient: Patient{FirstName: "Maria", LastName: "García", DOB: "1990-04-12", State: "TX",
			Address: &Address{Line1: "12 Elm St", City: "Austin", State: "TX", PostalCode: "78701"}},
		Provider: Prescriber{ID: "prov_tx_md", Name: "Dana Reyes", Credential: "MD", NPI: "1234567893", LicenseState: "TX", LicenseType: "MD", LicenseNumber: "TX-Q1234"},
		Orders: []Order{{Treatment: "neurotoxin", Product: "Botox (onabotulinumtoxinA)", Dose: "20 units", Route: "IM",
			Areas: []string{"glabella", "forehead"}, Frequency: "every 12 weeks as needed", Quantity: "1 vial (100 units)", Refills: 2, ValidDays: 180}},
		Findings:     Findings{Screened: []string{"neurotoxin"}, Flags: []Flag{{Code: "pregnancy_unknown", Display: "Pregnancy status not known"}}, Notes: "Discussed risks."},
		Attestation:  Attestation{Text: AttestationText, AcceptedAt: issued},
		IssuedAt:     issued,
		ValidUntil:   "2027-05-21",
		RulesVersion: "2026-11-01",
	}
}

// countingBlobs counts the objects written.
type countingBlobs struct {
	blob.Store
	mu   sync.Mutex
	puts []string
}

func (c *countingBlobs) Put(ctx context.Context, in blob.PutInput) (blob.Object, error) {
	obj, err := c.Store.Put(ctx, in)
	if err == nil {
		c.mu.Lock()
		c.puts = append(c.puts, in.Key)
		c.mu.Unlock()
	}
	return obj, err
}

func (c *countingBlobs) written() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string{}, c.puts...)
}

func newFileKey(t testing.TB) *signer.FileKey {
	t.Helper()
	key, err := signer.LoadOrCreateFileKey(filepath.Join(t.TempDir(), "key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func newBlobs(t testing.TB) *countingBlobs {
	t.Helper()
	b, err := dirblob.New(t.TempDir(), dirblob.Options{BaseURL: "http://127.0.0.1:1/blobs", Secret: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	return &countingBlobs{Store: b}
}

func newStore(t testing.TB) store.Store {
	t.Helper()
	s, err := boltstore.Open(filepath.Join(t.TempDir(), "db"), boltstore.WithoutSync())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// issueOne issues and commits testDoc.
func issueOne(t *testing.T, s signer.Signer) (Record, store.Store, *countingBlobs) {
	t.Helper()
	st, blobs := newStore(t), newBlobs(t)
	is := Issuer{Signer: s, Blobs: blobs, Store: st, VerifyBaseURL: "https://app.example.com/v1/psos/"}
	rec, ops, err := is.Issue(context.Background(), testDoc(), "clinic_a")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Transact(context.Background(), ops...); err != nil {
		t.Fatal(err)
	}
	return rec, st, blobs
}

func TestIssueStoresBothObjectsWriteOnceAndIndexesThem(t *testing.T) {
	key := newFileKey(t)
	rec, st, blobs := issueOne(t, key)
	ctx := context.Background()
	if got := blobs.written(); len(got) != 2 {
		t.Fatalf("objects written: %v, want the JWS and the PDF", got)
	}
	body, obj, err := blobs.Get(ctx, rec.ObjectKey)
	if err != nil || string(body) != rec.JWS || obj.SHA256 != rec.SHA256 || obj.ContentType != "application/jose" {
		t.Fatalf("JWS object: %+v %v", obj, err)
	}
	pdf, pobj, err := blobs.Get(ctx, rec.PDFKey)
	if err != nil || pobj.SHA256 != rec.PDFSHA256 || pobj.ContentType != "application/pdf" || int64(len(pdf)) != rec.PDFSize {
		t.Fatalf("PDF object: %+v %v", pobj, err)
	}
	if jws, err := ExtractJWS(pdf); err != nil || jws != rec.JWS {
		t.Fatalf("the PDF does not carry the signed order: %v", err)
	}
	for _, k := range []string{rec.ObjectKey, rec.PDFKey} {
		o, _ := blobs.Head(ctx, k)
		if !o.RetainUntil.Equal(issued.AddDate(DefaultRetentionYears, 0, 0)) {
			t.Fatalf("%s retained until %v, want 10 years", k, o.RetainUntil)
		}
		if err := blobs.Delete(ctx, k); !errors.Is(err, blob.ErrRetained) {
			t.Fatalf("delete %s: %v", k, err)
		}
		if _, err := blobs.Store.Put(ctx, blob.PutInput{Key: k, Body: []byte("forged")}); !errors.Is(err, blob.ErrExists) {
			t.Fatalf("overwrite %s: %v", k, err)
		}
	}
	got, err := Get(ctx, st, rec.ID)
	if err != nil || got != rec {
		t.Fatalf("index record %+v, %v; want %+v", got, err, rec)
	}
	if sum, _ := DocumentSHA256(testDoc()); rec.DocSHA256 != sum {
		t.Fatal("the index does not carry the canonical document's digest")
	}
	if _, err := st.Get(ctx, attemptKey(rec.ID)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the signing attempt outlived its commit: %v", err)
	}
	v := Verify(rec.JWS, signer.Keyring{Current: key}.JWKS(), issued.Add(time.Hour))
	if !v.Valid || v.Doc.Patient.LastName != "García" || v.Doc.Schema != Schema || v.KeyID != key.KeyID() {
		t.Fatalf("verify = %+v", v)
	}
}

func TestRetentionYearsIsConfigurable(t *testing.T) {
	blobs := newBlobs(t)
	rec, _, err := Issuer{Signer: newFileKey(t), Blobs: blobs, RetentionYears: 7}.Issue(context.Background(), testDoc(), "clinic_a")
	if err != nil {
		t.Fatal(err)
	}
	if want := issued.AddDate(7, 0, 0); !rec.RetainUntil.Equal(want) {
		t.Fatalf("retain until %v, want %v", rec.RetainUntil, want)
	}
}

// TestRetriedIssueYieldsTheSamePSO: an approval that crashed after writing
// its objects and before committing is retried (later, so at another time):
// it yields the same signed order and no new object.
func TestRetriedIssueYieldsTheSamePSO(t *testing.T) {
	st, blobs := newStore(t), newBlobs(t)
	is := Issuer{Signer: newFileKey(t), Blobs: blobs, Store: st}
	ctx := context.Background()
	first, _, err := is.Issue(ctx, testDoc(), "clinic_a") // never committed: the crash
	if err != nil {
		t.Fatal(err)
	}
	retry := testDoc()
	retry.IssuedAt, retry.Attestation.AcceptedAt, retry.ValidUntil = issued.Add(time.Minute), issued.Add(time.Minute), "2027-05-22"
	for range 3 {
		again, ops, err := is.Issue(ctx, retry, "clinic_a")
		if err != nil {
			t.Fatal(err)
		}
		if again != first {
			t.Fatalf("a retry made another PSO:\n%+v\n%+v", again, first)
		}
		if len(ops) == 0 {
			t.Fatal("no index operation")
		}
	}
	if got := blobs.written(); len(got) != 2 {
		t.Fatalf("objects written: %v, want one JWS and one PDF", got)
	}
	// Other orders after the crash are another decision: signed anew.
	changed := testDoc()
	changed.Orders[0].Dose = "24 units"
	other, ops, err := is.Issue(ctx, changed, "clinic_a")
	if err != nil {
		t.Fatal(err)
	}
	if other.JWS == first.JWS || other.ObjectKey == first.ObjectKey {
		t.Fatal("changed orders reused the earlier signature")
	}
	if err := st.Transact(ctx, ops...); err != nil {
		t.Fatal(err)
	}
	if _, _, err := is.Issue(ctx, changed, "clinic_a"); err != nil {
		t.Fatal(err)
	}
	// The committed record cannot be created twice.
	_, ops, _ = is.Issue(ctx, changed, "clinic_a")
	if err := st.Transact(ctx, ops...); !errors.Is(err, store.ErrConditionFailed) {
		t.Fatalf("a second index record: %v", err)
	}
}

func TestJWSPayloadIsTheCanonicalDocument(t *testing.T) {
	rec, _, _ := issueOne(t, newFileKey(t))
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(rec.JWS, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		PSO json.RawMessage `json:"pso"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	want, _ := Canonical(testDoc())
	if string(claims.PSO) != string(want) {
		t.Fatalf("payload document:\n%s\nwant\n%s", claims.PSO, want)
	}
}

// keySetOf is a JWKS of keys given under the kids given.
func keySetOf(keys map[string]*signer.FileKey) jwk.Set {
	var s jwk.Set
	for kid, k := range keys {
		s.Keys = append(s.Keys, jwk.FromECDSA(k.Public(), kid))
	}
	return s
}

func TestVerifyReasons(t *testing.T) {
	key := newFileKey(t)
	rec, _, _ := issueOne(t, key)
	ring := signer.Keyring{Current: key}
	parts := strings.Split(rec.JWS, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	forged := strings.Replace(string(payload), "García", "Garcia", 1)
	header, _ := base64.RawURLEncoding.DecodeString(parts[0])
	otherKid := strings.Replace(string(header), key.KeyID()[:4], "AAAA", 1)
	noDigest := strings.Replace(string(header), `"payload_s256"`, `"x"`, 1)
	other := newFileKey(t)
	cases := map[string]struct {
		jws  string
		keys jwk.Set
		at   time.Time
		want string
	}{
		"payload byte changed":   {parts[0] + "." + b64(forged) + "." + parts[2], ring.JWKS(), issued, ReasonPayloadAltered},
		"payload char changed":   {parts[0] + "." + flip(parts[1], 10) + "." + parts[2], ring.JWKS(), issued, ReasonPayloadAltered},
		"signature changed":      {parts[0] + "." + parts[1] + "." + flip(parts[2], 5), ring.JWKS(), issued, ReasonBadSignature},
		"header kid changed":     {b64(otherKid) + "." + parts[1] + "." + parts[2], ring.JWKS(), issued, ReasonUnknownKey},
		"swapped JWKS":           {rec.JWS, keySetOf(map[string]*signer.FileKey{key.KeyID(): other}), issued, ReasonKeyMismatch},
		"kid of no key in JWKS":  {rec.JWS, jwk.Set{}, issued, ReasonUnknownKey},
		"expired":                {rec.JWS, ring.JWKS(), time.Date(2027, 5, 22, 0, 0, 0, 0, time.UTC), ReasonExpired},
		"garbage":                {"a.b", ring.JWKS(), issued, ReasonMalformed},
		"header without digest":  {b64(noDigest) + "." + parts[1] + "." + parts[2], ring.JWKS(), issued, ReasonMalformed},
		"header and payload too": {b64(strings.Replace(string(header), payloadDigest(parts[1]), payloadDigest(b64(forged)), 1)) + "." + b64(forged) + "." + parts[2], ring.JWKS(), issued, ReasonBadSignature},
	}
	for name, c := range cases {
		if v := Verify(c.jws, c.keys, c.at); v.Valid || v.Reason != c.want {
			t.Errorf("%s: got %+v, want %s", name, v.Reason, c.want)
		}
	}
	if v := Verify(rec.JWS, ring.JWKS(), time.Date(2027, 5, 21, 23, 0, 0, 0, time.UTC)); !v.Valid {
		t.Errorf("valid on its last day: %+v", v)
	}
	rev := &Revocation{PSOID: rec.ID, RevokedAt: issued.Add(time.Hour)}
	for _, at := range []time.Time{issued, time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC)} {
		if v := Verify(rec.JWS, ring.JWKS(), at).Check(rev); v.Valid || v.Reason != ReasonRevoked || v.Revocation != rev {
			t.Errorf("revoked order at %v: %+v", at, v)
		}
	}
	tampered := Verify(parts[0]+"."+parts[1]+"."+flip(parts[2], 5), ring.JWKS(), issued).Check(rev)
	if tampered.Reason != ReasonBadSignature {
		t.Errorf("a forged copy of a revoked order must report the forgery: %s", tampered.Reason)
	}
	if v := Verify(rec.JWS, ring.JWKS(), issued).Check(&Revocation{PSOID: "pso_other"}); !v.Valid {
		t.Error("another order's revocation applied")
	}
}

func TestKeyRotation(t *testing.T) {
	ctx := context.Background()
	oldKey, newKey := newFileKey(t), newFileKey(t)
	blobs := newBlobs(t)
	old, _, err := Issuer{Signer: oldKey, Blobs: blobs}.Issue(ctx, testDoc(), "clinic_a")
	if err != nil {
		t.Fatal(err)
	}
	ring := signer.Keyring{Current: newKey, Retired: []jwk.Key{jwk.FromECDSA(oldKey.Public(), oldKey.KeyID())}}
	doc := testDoc()
	doc.ID, doc.ExamID = "pso_2", "exam_2"
	fresh, _, err := Issuer{Signer: ring.Current, Blobs: blobs}.Issue(ctx, doc, "clinic_a")
	if err != nil {
		t.Fatal(err)
	}
	if fresh.KeyID != newKey.KeyID() || old.KeyID != oldKey.KeyID() {
		t.Fatalf("kids: new PSO %s, old %s", fresh.KeyID, old.KeyID)
	}
	set := ring.JWKS()
	if len(set.Keys) != 2 || set.Keys[0].Kid != newKey.KeyID() || set.Keys[1].Kid != oldKey.KeyID() {
		t.Fatalf("JWKS %+v: want the current key, then the retired one", set)
	}
	for _, r := range []Record{old, fresh} {
		if v := Verify(r.JWS, set, issued); !v.Valid {
			t.Fatalf("%s signed by %s: %s", r.ID, r.KeyID, v.Reason)
		}
	}
	// Without the retired key, the old order's key is unknown.
	if v := Verify(old.JWS, signer.Keyring{Current: newKey}.JWKS(), issued); v.Reason != ReasonUnknownKey {
		t.Fatalf("retired key dropped: %s", v.Reason)
	}
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func flip(s string, i int) string {
	b := []byte(s)
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}
