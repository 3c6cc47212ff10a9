package jwk

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
)

// Key types, curves, algorithms and uses this package writes and accepts.
const (
	KtyEC    = "EC"
	KtyRSA   = "RSA"
	CrvP256  = "P-256"
	AlgES256 = "ES256"
	AlgRS256 = "RS256"
	UseSig   = "sig"
)

// Bounds on RSA keys accepted by Key.PublicKey.
const (
	MinRSABits = 2048
	MaxRSABits = 8192
)

// ErrInvalidKey is wrapped by every error Key.PublicKey and Thumbprint return
// for a key they refuse.
var ErrInvalidKey = errors.New("jwk: invalid key")

// Key is one public JSON Web Key. Only the members this package uses are
// kept; others are ignored when decoding.
type Key struct {
	Kty string `json:"kty,omitempty"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
	Kid string `json:"kid,omitempty"`
	Alg string `json:"alg,omitempty"`
	Use string `json:"use,omitempty"`
}

// Set is a JSON Web Key Set: {"keys":[…]}.
type Set struct {
	Keys []Key `json:"keys"`
}

// MarshalJSON writes an empty set as {"keys":[]} rather than {"keys":null}.
func (s Set) MarshalJSON() ([]byte, error) {
	type plain Set
	if s.Keys == nil {
		s.Keys = []Key{}
	}
	return json.Marshal(plain(s))
}

// Lookup returns the first key of the set whose kid is kid. An empty kid
// matches nothing.
func (s Set) Lookup(kid string) (Key, bool) {
	if kid == "" {
		return Key{}, false
	}
	for _, k := range s.Keys {
		if k.Kid == kid {
			return k, true
		}
	}
	return Key{}, false
}

var b64 = base64.RawURLEncoding

// FromECDSA returns the JWK of an ECDSA public key with the given kid. For a
// P-256 key (the only curve Key.PublicKey accepts) alg is ES256; use is
// always sig. Coordinates are base64url without padding, left-padded with
// zeros to the curve's full size as RFC 7518 section 6.2.1 requires. A nil
// or invalid key yields a Key without coordinates, which PublicKey refuses.
func FromECDSA(pub *ecdsa.PublicKey, kid string) Key {
	k := Key{Kty: KtyEC, Kid: kid, Use: UseSig}
	if pub == nil || pub.Curve == nil {
		return k
	}
	raw, err := pub.Bytes() // 0x04 || X || Y, each coordinate full size
	if err != nil || len(raw) < 3 || (len(raw)-1)%2 != 0 {
		return k
	}
	size := (len(raw) - 1) / 2
	k.Crv = pub.Curve.Params().Name
	switch k.Crv {
	case CrvP256:
		k.Alg = AlgES256
	case "P-384":
		k.Alg = "ES384"
	case "P-521":
		k.Alg = "ES512"
	}
	k.X = b64.EncodeToString(raw[1 : 1+size])
	k.Y = b64.EncodeToString(raw[1+size:])
	return k
}

// FromRSA returns the JWK of an RSA public key with the given kid, alg RS256
// and use sig. A nil key yields a Key without modulus, which PublicKey
// refuses.
func FromRSA(pub *rsa.PublicKey, kid string) Key {
	k := Key{Kty: KtyRSA, Kid: kid, Alg: AlgRS256, Use: UseSig}
	if pub == nil || pub.N == nil {
		return k
	}
	k.N = b64.EncodeToString(pub.N.Bytes())
	k.E = b64.EncodeToString(big.NewInt(int64(pub.E)).Bytes())
	return k
}

// PublicKey parses and validates the key. It returns an *ecdsa.PublicKey on
// P-256 or an *rsa.PublicKey, and an error wrapping ErrInvalidKey for
// anything else: unknown kty, another curve, a point off the curve, short or
// long coordinates, an RSA modulus outside [MinRSABits, MaxRSABits], a bad
// exponent, bad base64url, an alg that does not fit the key type, or a use
// other than sig.
func (k Key) PublicKey() (crypto.PublicKey, error) {
	if k.Use != "" && k.Use != UseSig {
		return nil, invalid("use %q is not sig", k.Use)
	}
	switch k.Kty {
	case KtyEC:
		pub, err := k.ecdsa()
		if err != nil {
			return nil, err // not a typed nil inside the interface
		}
		return pub, nil
	case KtyRSA:
		pub, err := k.rsa()
		if err != nil {
			return nil, err
		}
		return pub, nil
	case "":
		return nil, invalid("kty missing")
	default:
		return nil, invalid("unsupported kty %q", k.Kty)
	}
}

func (k Key) ecdsa() (*ecdsa.PublicKey, error) {
	if k.Crv != CrvP256 {
		return nil, invalid("unsupported curve %q", k.Crv)
	}
	if k.Alg != "" && k.Alg != AlgES256 {
		return nil, invalid("alg %q does not fit a P-256 key", k.Alg)
	}
	x, err := decodeFixed("x", k.X, 32)
	if err != nil {
		return nil, err
	}
	y, err := decodeFixed("y", k.Y, 32)
	if err != nil {
		return nil, err
	}
	raw := make([]byte, 0, 65)
	raw = append(raw, 4)
	raw = append(raw, x...)
	raw = append(raw, y...)
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), raw)
	if err != nil {
		return nil, invalid("point is not on P-256: %v", err)
	}
	return pub, nil
}

var rsaAlgs = map[string]bool{
	"RS256": true, "RS384": true, "RS512": true,
	"PS256": true, "PS384": true, "PS512": true,
}

func (k Key) rsa() (*rsa.PublicKey, error) {
	if k.Alg != "" && !rsaAlgs[k.Alg] {
		return nil, invalid("alg %q does not fit an RSA key", k.Alg)
	}
	if k.N == "" {
		return nil, invalid("n missing")
	}
	nb, err := b64.DecodeString(k.N)
	if err != nil {
		return nil, invalid("n is not base64url: %v", err)
	}
	n := new(big.Int).SetBytes(nb)
	if bits := n.BitLen(); bits < MinRSABits || bits > MaxRSABits {
		return nil, invalid("RSA modulus has %d bits, want %d to %d", bits, MinRSABits, MaxRSABits)
	}
	if n.Bit(0) == 0 {
		return nil, invalid("RSA modulus is even")
	}
	if k.E == "" {
		return nil, invalid("e missing")
	}
	eb, err := b64.DecodeString(k.E)
	if err != nil {
		return nil, invalid("e is not base64url: %v", err)
	}
	e := new(big.Int).SetBytes(eb)
	// crypto/rsa verifies only with 2 < e < 2^31 and e odd.
	if e.BitLen() > 31 || e.Int64() < 3 || e.Bit(0) == 0 {
		return nil, invalid("RSA exponent out of range")
	}
	return &rsa.PublicKey{N: n, E: int(e.Int64())}, nil
}

func decodeFixed(name, s string, size int) ([]byte, error) {
	if s == "" {
		return nil, invalid("%s missing", name)
	}
	b, err := b64.DecodeString(s)
	if err != nil {
		return nil, invalid("%s is not base64url: %v", name, err)
	}
	if len(b) != size {
		return nil, invalid("%s is %d bytes, want %d", name, len(b), size)
	}
	return b, nil
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidKey, fmt.Sprintf(format, args...))
}

// Thumbprint returns the RFC 7638 JWK thumbprint of pub (SHA-256,
// base64url without padding), a stable identifier for deriving kids. pub
// must be a valid *ecdsa.PublicKey (any curve crypto/ecdsa supports) or
// *rsa.PublicKey; other values give an error wrapping ErrInvalidKey.
func Thumbprint(pub crypto.PublicKey) (string, error) {
	var members string
	switch p := pub.(type) {
	case *ecdsa.PublicKey:
		if p == nil || p.Curve == nil {
			return "", invalid("nil ECDSA key")
		}
		k := FromECDSA(p, "")
		if k.X == "" {
			return "", invalid("ECDSA key cannot be encoded")
		}
		// Required members in lexicographic order, no whitespace (RFC 7638 §3).
		members = `{"crv":` + quote(k.Crv) + `,"kty":"EC","x":` + quote(k.X) + `,"y":` + quote(k.Y) + `}`
	case *rsa.PublicKey:
		if p == nil || p.N == nil || p.N.Sign() <= 0 || p.E <= 0 {
			return "", invalid("nil or empty RSA key")
		}
		k := FromRSA(p, "")
		members = `{"e":` + quote(k.E) + `,"kty":"RSA","n":` + quote(k.N) + `}`
	default:
		return "", invalid("unsupported public key type %T", pub)
	}
	sum := sha256.Sum256([]byte(members))
	return b64.EncodeToString(sum[:]), nil
}

// quote JSON-encodes a string made of base64url or curve-name characters,
// none of which need escaping.
func quote(s string) string { return `"` + s + `"` }
