// Package ids makes the identifiers of records: a short prefix naming the
// kind ("exam_", "att_") and 128 random bits, so ids are unguessable and
// safe to show in URLs.
package ids

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
)

// Generator makes ids; tests may replace it with a deterministic one.
type Generator interface {
	New(prefix string) string
}

// Random is the production generator.
type Random struct{}

var encoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// New returns prefix + "_" + 26 lowercase base32 characters.
func (Random) New(prefix string) string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("ids: crypto/rand failed: " + err.Error()) // the OS has no randomness; nothing safe remains to do
	}
	return prefix + "_" + strings.ToLower(encoding.EncodeToString(b[:]))
}

// Valid reports whether id looks like one made with prefix, so handlers can
// answer 404 for malformed ids without a store read.
func Valid(id, prefix string) bool {
	rest, ok := strings.CutPrefix(id, prefix+"_")
	if !ok || len(rest) < 8 || len(rest) > 64 {
		return false
	}
	for _, r := range rest {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}
