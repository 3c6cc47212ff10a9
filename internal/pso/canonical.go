package pso

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"
)

// Canonical returns the canonical JSON of doc: UTF-8, no insignificant
// whitespace, members in the struct's order, times RFC 3339 in UTC to the
// whole second, empty lists as [] and never null, and encoding/json's
// escaping of <, > and &. The JWS payload carries the document in exactly
// this form (see Issue), so its hash is stable across retries and releases.
func Canonical(doc Document) ([]byte, error) {
	return json.Marshal(normalize(doc))
}

// DocumentSHA256 is the hex SHA-256 of the canonical JSON of doc.
func DocumentSHA256(doc Document) (string, error) {
	b, err := Canonical(doc)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// normalize puts doc in canonical form; it never changes what the order
// says.
func normalize(doc Document) Document {
	second := func(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }
	doc.Schema = Schema
	doc.IssuedAt = second(doc.IssuedAt)
	doc.Attestation.AcceptedAt = second(doc.Attestation.AcceptedAt)
	doc.Orders = append([]Order{}, doc.Orders...) // a copy: the caller's slice stays as it was
	for i := range doc.Orders {
		doc.Orders[i].Areas = nonNil(doc.Orders[i].Areas)
	}
	doc.Findings.Screened = nonNil(doc.Findings.Screened)
	doc.Findings.Flags = nonNil(doc.Findings.Flags)
	return doc
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
