package pso

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/goodfaith/goodfaith/internal/blob"
	"github.com/goodfaith/goodfaith/internal/fault"
	"github.com/goodfaith/goodfaith/internal/signer"
	"github.com/goodfaith/goodfaith/internal/store"
)

// Record is the store's index entry of a signed PSO: where its two
// write-once objects are, their digests and versions, and its validity.
type Record struct {
	ID          string    `json:"id"`
	ExamID      string    `json:"exam_id"`
	ClinicID    string    `json:"clinic_id"`
	JWS         string    `json:"jws"`
	SHA256      string    `json:"sha256"`          // hex SHA-256 of the JWS string
	DocSHA256   string    `json:"document_sha256"` // hex SHA-256 of the canonical document
	ObjectKey   string    `json:"object_key"`      // the JWS object
	ObjectVer   string    `json:"object_version,omitempty"`
	PDFKey      string    `json:"pdf_key"`
	PDFSHA256   string    `json:"pdf_sha256"`
	PDFVer      string    `json:"pdf_version,omitempty"`
	PDFSize     int64     `json:"pdf_size"`
	KeyID       string    `json:"kid"`
	IssuedAt    time.Time `json:"issued_at"`
	ValidUntil  string    `json:"valid_until"`
	RetainUntil time.Time `json:"retain_until"`
}

// IDForExam is the PSO id of an exam. One exam has at most one PSO, so the
// id derives from the exam's: a retried approval lands on the same record.
func IDForExam(examID string) string { return "pso_" + examID[len("exam_"):] }

func key(id string) store.Key        { return store.Key{PK: "PSO#" + id, SK: "PSO"} }
func attemptKey(id string) store.Key { return store.Key{PK: "PSO#" + id, SK: "ATTEMPT"} }

// DefaultRetentionYears is how long PSO objects stay under WORM retention
// unless configured otherwise (state-rules.md: 6–10 years; default 10).
const DefaultRetentionYears = 10

// attemptTTL is how long an uncommitted signing attempt is kept for a retry
// to reuse.
const attemptTTL = 30 * 24 * time.Hour

// HeaderPayloadSHA256 is the protected-header member carrying the
// base64url SHA-256 of the JWS payload segment. The signature covers it, so
// a verifier can tell an altered payload (digest mismatch) from an altered
// signature (digest matches, signature fails).
const HeaderPayloadSHA256 = "payload_s256"

// Issuer signs PSOs and writes them.
type Issuer struct {
	Signer         signer.Signer
	Blobs          blob.Store
	Store          store.Store // keeps uncommitted attempts for retries; nil: none kept
	RetentionYears int         // default DefaultRetentionYears
	VerifyBaseURL  string      // prefixes the PSO id into the PDF's verification link
}

// attempt is a signed order not yet committed with its decision: a retry of
// the same approval reuses it, so that it yields the same PSO and the same
// objects instead of a second signed order.
type attempt struct {
	Fingerprint string   `json:"fingerprint"`
	KeyID       string   `json:"kid"`
	JWS         string   `json:"jws"`
	Doc         Document `json:"doc"`
}

// fingerprint identifies what the approval decided, without the times a
// retry cannot repeat.
func fingerprint(doc Document) (string, error) {
	doc.IssuedAt, doc.Attestation.AcceptedAt, doc.ValidUntil = time.Time{}, time.Time{}, ""
	return DocumentSHA256(doc)
}

// Issue signs doc, writes the JWS and the PDF once to object storage under
// retention, and returns the index record with the store operations that
// create it, to commit with the exam's decision in one transaction. The
// caller holds the exam's decision lock, so attempts do not run at once.
//
// A retry after a crash between writing and committing finds the earlier
// attempt and, when it decided the same orders, reuses its signed order:
// the objects, whose keys carry their digests, are then already there and
// are checked, not written again.
func (is Issuer) Issue(ctx context.Context, doc Document, clinicID string) (Record, []store.Op, error) {
	doc = normalize(doc)
	fp, err := fingerprint(doc)
	if err != nil {
		return Record{}, nil, err
	}
	jws, reused := "", false
	if is.Store != nil {
		if it, err := is.Store.Get(ctx, attemptKey(doc.ID)); err == nil {
			var a attempt
			if json.Unmarshal(it.Data, &a) == nil && a.Fingerprint == fp && a.KeyID == is.Signer.KeyID() {
				jws, doc, reused = a.JWS, a.Doc, true
			}
		} else if !errors.Is(err, store.ErrNotFound) {
			return Record{}, nil, err
		}
	}
	if !reused {
		if jws, err = sign(ctx, is.Signer, doc); err != nil {
			return Record{}, nil, fmt.Errorf("pso: sign: %w", err)
		}
	}
	// The PDF depends only on the signed order, and rendering it is the
	// approval's largest CPU cost: render it while the attempt and the JWS
	// are written, which wait on a commit and an fsync, instead of after
	// them. The channels here are buffered so that an early return leaves
	// no goroutine blocked.
	rendered := make(chan renderedPDF, 1)
	go func(doc Document, jws string) {
		pdf, err := RenderPDF(PDFInput{Doc: doc, JWS: jws, KeyID: is.Signer.KeyID(), VerifyURL: is.verifyURL(doc.ID)})
		rendered <- renderedPDF{pdf, err}
	}(doc, jws)
	if !reused && is.Store != nil {
		data, err := json.Marshal(attempt{Fingerprint: fp, KeyID: is.Signer.KeyID(), JWS: jws, Doc: doc})
		if err != nil {
			return Record{}, nil, err
		}
		k := attemptKey(doc.ID)
		if err := is.Store.Put(ctx, store.Item{PK: k.PK, SK: k.SK, Version: 1, ExpiresAt: doc.IssuedAt.Add(attemptTTL), Data: data}, store.None); err != nil {
			return Record{}, nil, err
		}
	}
	docSum, err := DocumentSHA256(doc)
	if err != nil {
		return Record{}, nil, err
	}
	years := is.RetentionYears
	if years <= 0 {
		years = DefaultRetentionYears
	}
	retain := doc.IssuedAt.AddDate(years, 0, 0)
	jwsSum := sha256Hex([]byte(jws))
	// The keys carry the digests: an attempt that crashed after its writes
	// leaves its own objects, and a retry never collides with another's.
	// The two objects are independent (each key carries its own digest,
	// and the attempt recorded above is what a retry starts from), so
	// they are written at once: one round trip to object storage instead
	// of two in a row.
	jwsWritten := make(chan writtenObject, 1)
	go func() {
		obj, err := is.putOnce(ctx, blob.PutInput{Key: "psos/" + doc.ID + "/" + jwsSum[:16] + ".jws", Body: []byte(jws), ContentType: "application/jose", RetainUntil: retain}, jwsSum)
		jwsWritten <- writtenObject{obj, err}
	}()
	r := <-rendered
	if r.err != nil {
		return Record{}, nil, r.err
	}
	pdf, pdfSum := r.pdf, sha256Hex(r.pdf)
	pdfObj, pdfErr := is.putOnce(ctx, blob.PutInput{Key: "psos/" + doc.ID + "/" + pdfSum[:16] + ".pdf", Body: pdf, ContentType: "application/pdf", RetainUntil: retain}, pdfSum)
	w := <-jwsWritten
	if w.err != nil {
		return Record{}, nil, w.err
	}
	if pdfErr != nil {
		return Record{}, nil, pdfErr
	}
	jwsObj := w.obj
	rec := Record{
		ID: doc.ID, ExamID: doc.ExamID, ClinicID: clinicID, JWS: jws, SHA256: jwsSum, DocSHA256: docSum,
		ObjectKey: jwsObj.Key, ObjectVer: jwsObj.VersionID,
		PDFKey: pdfObj.Key, PDFSHA256: pdfSum, PDFVer: pdfObj.VersionID, PDFSize: int64(len(pdf)),
		KeyID: is.Signer.KeyID(), IssuedAt: doc.IssuedAt, ValidUntil: doc.ValidUntil, RetainUntil: retain,
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return Record{}, nil, err
	}
	k := key(doc.ID)
	item := store.Item{PK: k.PK, SK: k.SK, GSI1PK: "CLINIC#" + clinicID + "#PSOS", GSI1SK: store.SortableTime(doc.IssuedAt) + "#" + doc.ID, Version: 1, Data: data}
	ops := []store.Op{{Put: &item, Cond: store.IfAbsent}}
	if is.Store != nil {
		ak := attemptKey(doc.ID)
		ops = append(ops, store.Op{Delete: &ak, Cond: store.None})
	}
	return rec, ops, nil
}

// renderedPDF is RenderPDF's answer, handed back by the goroutine that ran it.
type renderedPDF struct {
	pdf []byte
	err error
}

// writtenObject is putOnce's answer, likewise.
type writtenObject struct {
	obj blob.Object
	err error
}

func (is Issuer) verifyURL(id string) string {
	if is.VerifyBaseURL == "" {
		return ""
	}
	return is.VerifyBaseURL + id
}

// putOnce writes an object, or accepts the one already under its key when
// it holds the same bytes (a retry of the same attempt).
func (is Issuer) putOnce(ctx context.Context, in blob.PutInput, sum string) (blob.Object, error) {
	obj, err := is.Blobs.Put(ctx, in)
	if errors.Is(err, blob.ErrExists) {
		obj, err = is.Blobs.Head(ctx, in.Key)
		if err == nil && obj.SHA256 != sum {
			err = fmt.Errorf("pso: %s holds other bytes than this attempt's", in.Key)
		}
	}
	if err != nil {
		return blob.Object{}, fmt.Errorf("pso: store %s: %w", in.Key, err)
	}
	return obj, nil
}

// sign makes the compact JWS of doc: ES256, kid and the payload digest in
// the protected header, the canonical document as the pso claim.
func sign(ctx context.Context, s signer.Signer, doc Document) (string, error) {
	claims := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:   IssuerName,
			Subject:  doc.ExamID,
			ID:       doc.ID,
			IssuedAt: jwt.NewNumericDate(doc.IssuedAt),
		},
		PSO: doc,
	}
	payload, err := json.Marshal(claims) // as golang-jwt encodes it
	if err != nil {
		return "", err
	}
	return signer.JWSWithHeader(ctx, s, claims, map[string]any{HeaderPayloadSHA256: payloadDigest(base64.RawURLEncoding.EncodeToString(payload))})
}

func payloadDigest(segment string) string {
	sum := sha256.Sum256([]byte(segment))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Get reads a PSO's index record.
func Get(ctx context.Context, s store.Store, id string) (Record, error) {
	it, err := s.Get(ctx, key(id))
	if errors.Is(err, store.ErrNotFound) {
		return Record{}, fault.NotFound("pso_not_found", "no such PSO")
	}
	if err != nil {
		return Record{}, err
	}
	var r Record
	return r, json.Unmarshal(it.Data, &r)
}
