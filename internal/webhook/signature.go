package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader carries the signature of a delivery.
const SignatureHeader = "Goodfaith-Signature"

// DefaultTolerance is how far a signature's timestamp may be from the
// receiver's clock before Verify refuses it as a replay.
const DefaultTolerance = 5 * time.Minute

var (
	// ErrNoSignature: the header is missing or has no t or v1.
	ErrNoSignature = errors.New("webhook: no valid Goodfaith-Signature header")
	// ErrBadSignature: no v1 matches the body under the secret.
	ErrBadSignature = errors.New("webhook: signature does not match")
	// ErrStaleSignature: the timestamp is outside the tolerance (a replay,
	// or a clock far off).
	ErrStaleSignature = errors.New("webhook: signature timestamp outside the tolerance")
)

// Sign returns the Goodfaith-Signature value of body sent at t.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + mac(secret, ts, body)
}

func mac(secret, ts string, body []byte) string {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// Verify checks a delivery's signature header against its raw body, with
// DefaultTolerance around now.
func Verify(secret, header string, body []byte, now time.Time) error {
	return VerifyWithTolerance(secret, header, body, now, DefaultTolerance)
}

// VerifyWithTolerance is Verify with another tolerance.
func VerifyWithTolerance(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return ErrNoSignature
	}
	want := []byte(mac(secret, ts, body))
	matched := false
	for _, s := range sigs {
		if hmac.Equal([]byte(s), want) {
			matched = true
		}
	}
	if !matched {
		return ErrBadSignature
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return ErrStaleSignature
	}
	return nil
}
