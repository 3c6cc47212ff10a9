package pso

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/goodfaith/goodfaith/internal/blob"
	"github.com/goodfaith/goodfaith/internal/fault"
	"github.com/goodfaith/goodfaith/internal/jwk"
	"github.com/goodfaith/goodfaith/internal/signer"
	"github.com/goodfaith/goodfaith/internal/store"
)

// Record is the store's index entry of a signed PSO.
type Record struct {
	ID          string    `json:"id"`
	ExamID      string    `json:"exam_id"`
	ClinicID    string    `json:"clinic_id"`
	JWS         string    `json:"jws"`
	SHA256      string    `json:"sha256"` // hex SHA-256 of the JWS string
	ObjectKey   string    `json:"object_key"`
	ObjectVer   string    `json:"object_version,omitempty"`
	KeyID       string    `json:"kid"`
	IssuedAt    time.Time `json:"issued_at"`
	ValidUntil  string    `json:"valid_until"`
	RetainUntil time.Time `json:"retain_until"`
}

// IDForExam is the PSO id of an exam. One exam has at most one PSO, so the
// id derives from the exam's: a retried approval lands on the same record.
func IDForExam(examID string) string { return "pso_" + examID[len("exam_"):] }

func key(id string) store.Key { return store.Key{PK: "PSO#" + id, SK: "PSO"} }

// Issuer signs PSOs and writes them.
type Issuer struct {
	Signer         signer.Signer
	Blobs          blob.Store
	RetentionYears int // default 10
}

// Issue signs doc, writes the JWS once to object storage, and returns the
// index record with the store operation that creates it (to commit with the
// exam's decision in one transaction).
func (is Issuer) Issue(ctx context.Context, doc Document, clinicID string) (Record, store.Op, error) {
	doc.Schema = Schema
	claims := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:   IssuerName,
			Subject:  doc.ExamID,
			ID:       doc.ID,
			IssuedAt: jwt.NewNumericDate(doc.IssuedAt),
		},
		PSO: doc,
	}
	jws, err := signer.JWS(ctx, is.Signer, claims)
	if err != nil {
		return Record{}, store.Op{}, fmt.Errorf("pso: sign: %w", err)
	}
	sum := sha256.Sum256([]byte(jws))
	digest := hex.EncodeToString(sum[:])
	years := is.RetentionYears
	if years <= 0 {
		years = 10
	}
	retain := doc.IssuedAt.AddDate(years, 0, 0)
	// The object key carries the digest: an attempt that crashed after its
	// write leaves its own object, and a retry never collides with it.
	objKey := "psos/" + doc.ID + "/" + digest[:16] + ".jws"
	obj, err := is.Blobs.Put(ctx, blob.PutInput{Key: objKey, Body: []byte(jws), ContentType: "application/jose", RetainUntil: retain})
	if err != nil {
		return Record{}, store.Op{}, fmt.Errorf("pso: store: %w", err)
	}
	rec := Record{
		ID: doc.ID, ExamID: doc.ExamID, ClinicID: clinicID, JWS: jws, SHA256: digest,
		ObjectKey: objKey, ObjectVer: obj.VersionID, KeyID: is.Signer.KeyID(),
		IssuedAt: doc.IssuedAt, ValidUntil: doc.ValidUntil, RetainUntil: retain,
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return Record{}, store.Op{}, err
	}
	k := key(doc.ID)
	item := store.Item{PK: k.PK, SK: k.SK, GSI1PK: "CLINIC#" + clinicID + "#PSOS", GSI1SK: store.SortableTime(doc.IssuedAt) + "#" + doc.ID, Version: 1, Data: data}
	return rec, store.Op{Put: &item, Cond: store.IfAbsent}, nil
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

// Reasons a JWS fails verification.
const (
	ReasonMalformed    = "malformed"
	ReasonUnknownKey   = "unknown_key"
	ReasonBadSignature = "bad_signature"
	ReasonWrongIssuer  = "wrong_issuer"
	ReasonSchema       = "unknown_schema"
	ReasonExpired      = "expired"
)

// Verification is the outcome of checking a JWS.
type Verification struct {
	Valid  bool
	Reason string
	Doc    Document
}

// Verify checks jws against the public keys alone, and its validity on now.
func Verify(jws string, keys jwk.Set, now time.Time) Verification {
	var claims Claims
	_, err := jwt.ParseWithClaims(jws, &claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		k, ok := keys.Lookup(kid)
		if !ok {
			return nil, errUnknownKey
		}
		return k.PublicKey()
	}, jwt.WithValidMethods([]string{"ES256"}), jwt.WithIssuer(IssuerName), jwt.WithoutClaimsValidation())
	switch {
	case errors.Is(err, errUnknownKey):
		return Verification{Reason: ReasonUnknownKey}
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return Verification{Reason: ReasonBadSignature}
	case err != nil:
		return Verification{Reason: ReasonMalformed}
	}
	if claims.Issuer != IssuerName {
		return Verification{Reason: ReasonWrongIssuer}
	}
	if claims.PSO.Schema != Schema {
		return Verification{Reason: ReasonSchema}
	}
	until, err := time.Parse(time.DateOnly, claims.PSO.ValidUntil)
	if err != nil {
		return Verification{Reason: ReasonMalformed}
	}
	if now.UTC().Truncate(24 * time.Hour).After(until) {
		return Verification{Reason: ReasonExpired, Doc: claims.PSO}
	}
	return Verification{Valid: true, Doc: claims.PSO}
}

var errUnknownKey = errors.New("pso: unknown key id")
