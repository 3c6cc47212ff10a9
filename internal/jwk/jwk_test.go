package jwk

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"sync"
	"testing"
)

// rfc7638N is the modulus of the RSA key in RFC 7638 section 3.1, whose
// thumbprint the RFC gives as rfc7638Thumb.
const (
	rfc7638N     = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
	rfc7638Thumb = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
)

var (
	rsaOnce sync.Once
	rsaKey  *rsa.PrivateKey
)

func testRSA(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	rsaOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		rsaKey = k
	})
	return rsaKey
}

func testEC(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestThumbprintRFC7638(t *testing.T) {
	k := Key{Kty: KtyRSA, N: rfc7638N, E: "AQAB", Alg: "RS256", Kid: "2011-04-29"}
	pub, err := k.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Thumbprint(pub)
	if err != nil {
		t.Fatal(err)
	}
	if got != rfc7638Thumb {
		t.Fatalf("thumbprint = %s, want %s", got, rfc7638Thumb)
	}
}

func TestThumbprintEC(t *testing.T) {
	priv := testEC(t)
	k := FromECDSA(&priv.PublicKey, "")
	// Computed independently from the canonical member order of RFC 7638.
	canon, err := json.Marshal(struct {
		Crv string `json:"crv"`
		Kty string `json:"kty"`
		X   string `json:"x"`
		Y   string `json:"y"`
	}{k.Crv, k.Kty, k.X, k.Y})
	if err != nil {
		t.Fatal(err)
	}
	want := sha256b64(canon)
	got, err := Thumbprint(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("thumbprint = %s, want %s", got, want)
	}
	again, _ := Thumbprint(&priv.PublicKey)
	if again != got {
		t.Fatal("thumbprint is not stable")
	}
	other, _ := Thumbprint(&testEC(t).PublicKey)
	if other == got {
		t.Fatal("two keys share a thumbprint")
	}
}

func TestThumbprintRejects(t *testing.T) {
	for name, pub := range map[string]any{
		"nil":       nil,
		"nil ecdsa": (*ecdsa.PublicKey)(nil),
		"nil rsa":   (*rsa.PublicKey)(nil),
		"empty rsa": &rsa.PublicKey{},
		"bytes":     []byte("secret"),
		"private":   testEC(t),
	} {
		if _, err := Thumbprint(pub); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("%s: err = %v, want ErrInvalidKey", name, err)
		}
	}
}

func TestECDSARoundTrip(t *testing.T) {
	for i := 0; i < 20; i++ { // enough keys that some coordinates have leading zero bytes
		priv := testEC(t)
		k := FromECDSA(&priv.PublicKey, "kid-1")
		if k.Kty != "EC" || k.Crv != "P-256" || k.Alg != "ES256" || k.Use != "sig" || k.Kid != "kid-1" {
			t.Fatalf("unexpected members: %+v", k)
		}
		if len(k.X) != 43 || len(k.Y) != 43 || strings.ContainsAny(k.X+k.Y, "=+/") {
			t.Fatalf("coordinates not 32-byte unpadded base64url: %q %q", k.X, k.Y)
		}
		pub, err := k.PublicKey()
		if err != nil {
			t.Fatal(err)
		}
		if !priv.PublicKey.Equal(pub) {
			t.Fatal("round trip changed the key")
		}
	}
}

func TestECDSALeftPadding(t *testing.T) {
	// Find a key whose X coordinate starts with a zero byte (1 in 256).
	for i := 0; i < 5000; i++ {
		priv := testEC(t)
		raw, err := priv.PublicKey.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		if raw[1] != 0 {
			continue
		}
		k := FromECDSA(&priv.PublicKey, "")
		x, _ := base64.RawURLEncoding.DecodeString(k.X)
		if len(x) != 32 || x[0] != 0 {
			t.Fatalf("x not left-padded: %x", x)
		}
		if pub, err := k.PublicKey(); err != nil || !priv.PublicKey.Equal(pub) {
			t.Fatalf("padded key does not round trip: %v", err)
		}
		return
	}
	// (255/256)^5000 is about 3e-9: reaching here means the generator is broken.
	t.Fatal("no key with a leading zero byte in 5000 keys")
}

func TestRSARoundTrip(t *testing.T) {
	priv := testRSA(t)
	k := FromRSA(&priv.PublicKey, "r1")
	if k.Kty != "RSA" || k.Alg != "RS256" || k.Use != "sig" || k.E != "AQAB" || k.Kid != "r1" {
		t.Fatalf("unexpected members: %+v", k)
	}
	pub, err := k.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	if !priv.PublicKey.Equal(pub) {
		t.Fatal("round trip changed the key")
	}
}

func TestFromNil(t *testing.T) {
	if _, err := FromECDSA(nil, "a").PublicKey(); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("nil ECDSA: %v", err)
	}
	if _, err := FromRSA(nil, "a").PublicKey(); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("nil RSA: %v", err)
	}
}

func TestOtherCurvesAreEncodedButRefused(t *testing.T) {
	priv, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k := FromECDSA(&priv.PublicKey, "p384")
	if k.Crv != "P-384" || k.Alg != "ES384" || len(k.X) != 64 {
		t.Fatalf("unexpected P-384 encoding: %+v", k)
	}
	if _, err := k.PublicKey(); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("P-384 accepted: %v", err)
	}
}

func TestPublicKeyMalformed(t *testing.T) {
	ec := FromECDSA(&testEC(t).PublicKey, "e")
	rs := FromRSA(&testRSA(t).PublicKey, "r")
	b := base64.RawURLEncoding.EncodeToString

	// A point off the curve: keep x, change y.
	y, _ := base64.RawURLEncoding.DecodeString(ec.Y)
	y[31] ^= 1
	offCurve := ec
	offCurve.Y = b(y)

	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	huge := new(big.Int).Lsh(big.NewInt(1), MaxRSABits)
	huge.Add(huge, big.NewInt(1))

	with := func(k Key, f func(*Key)) Key { f(&k); return k }
	cases := []struct {
		name string
		key  Key
	}{
		{"empty", Key{}},
		{"unknown kty", with(ec, func(k *Key) { k.Kty = "OKP" })},
		{"oct", Key{Kty: "oct", Kid: "s"}},
		{"lowercase kty", with(ec, func(k *Key) { k.Kty = "ec" })},
		{"ec use enc", with(ec, func(k *Key) { k.Use = "enc" })},
		{"ec P-384 curve name", with(ec, func(k *Key) { k.Crv = "P-384" })},
		{"ec no curve", with(ec, func(k *Key) { k.Crv = "" })},
		{"ec alg RS256", with(ec, func(k *Key) { k.Alg = "RS256" })},
		{"ec alg HS256", with(ec, func(k *Key) { k.Alg = "HS256" })},
		{"ec alg none", with(ec, func(k *Key) { k.Alg = "none" })},
		{"ec missing x", with(ec, func(k *Key) { k.X = "" })},
		{"ec missing y", with(ec, func(k *Key) { k.Y = "" })},
		{"ec short x", with(ec, func(k *Key) { k.X = b(make([]byte, 31)) })},
		{"ec long y", with(ec, func(k *Key) { k.Y = b(make([]byte, 33)) })},
		{"ec padded base64", with(ec, func(k *Key) { k.X += "=" })},
		{"ec std base64", with(ec, func(k *Key) { k.X = "+/" + k.X[2:] })},
		{"ec off curve", offCurve},
		{"ec zero point", with(ec, func(k *Key) { k.X, k.Y = b(make([]byte, 32)), b(make([]byte, 32)) })},
		{"ec coordinate ≥ p", with(ec, func(k *Key) { k.X = b(bytesOf(0xff, 32)) })},
		{"rsa use enc", with(rs, func(k *Key) { k.Use = "enc" })},
		{"rsa alg ES256", with(rs, func(k *Key) { k.Alg = "ES256" })},
		{"rsa alg HS256", with(rs, func(k *Key) { k.Alg = "HS256" })},
		{"rsa missing n", with(rs, func(k *Key) { k.N = "" })},
		{"rsa missing e", with(rs, func(k *Key) { k.E = "" })},
		{"rsa bad n", with(rs, func(k *Key) { k.N = "!!!" })},
		{"rsa bad e", with(rs, func(k *Key) { k.E = "A=" })},
		{"rsa 1024 bits", FromRSA(&small.PublicKey, "s")},
		{"rsa too big", with(rs, func(k *Key) { k.N = b(huge.Bytes()) })},
		{"rsa even modulus", with(rs, func(k *Key) {
			n, _ := base64.RawURLEncoding.DecodeString(k.N)
			n[len(n)-1] &^= 1
			k.N = b(n)
		})},
		{"rsa e=1", with(rs, func(k *Key) { k.E = b([]byte{1}) })},
		{"rsa e even", with(rs, func(k *Key) { k.E = b([]byte{1, 0, 0}) })},
		{"rsa e too large", with(rs, func(k *Key) { k.E = b([]byte{1, 0, 0, 0, 1}) })},
		{"rsa e zero", with(rs, func(k *Key) { k.E = "AA" })},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pub, err := c.key.PublicKey()
			if !errors.Is(err, ErrInvalidKey) {
				t.Fatalf("PublicKey() = %v, %v; want ErrInvalidKey", pub, err)
			}
			if pub != nil {
				t.Fatalf("key returned with error: %v", pub)
			}
		})
	}
}

func TestPublicKeyAcceptsOptionalMembersMissing(t *testing.T) {
	ec := FromECDSA(&testEC(t).PublicKey, "")
	ec.Alg, ec.Use = "", ""
	if _, err := ec.PublicKey(); err != nil {
		t.Errorf("EC without alg/use: %v", err)
	}
	rs := Key{Kty: "RSA", N: rfc7638N, E: "AQAB"}
	if _, err := rs.PublicKey(); err != nil {
		t.Errorf("RSA without alg/use: %v", err)
	}
}

func TestSetJSON(t *testing.T) {
	ec := FromECDSA(&testEC(t).PublicKey, "e1")
	rs := FromRSA(&testRSA(t).PublicKey, "r1")
	set := Set{Keys: []Key{ec, rs}}
	raw, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(raw), `{"keys":[{"kty":"EC","crv":"P-256","x":`) {
		t.Fatalf("unexpected JSON: %s", raw)
	}
	if strings.Contains(string(raw), `"n":""`) || strings.Contains(string(raw), `"d"`) {
		t.Fatalf("empty or private members written: %s", raw)
	}
	var back Set
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Keys) != 2 || back.Keys[0] != ec || back.Keys[1] != rs {
		t.Fatalf("round trip: %+v", back)
	}

	empty, _ := json.Marshal(Set{})
	if string(empty) != `{"keys":[]}` {
		t.Fatalf("empty set = %s", empty)
	}
}

func TestSetDecodesForeignJWKS(t *testing.T) {
	// The shape Cognito publishes, plus members this package ignores.
	raw := `{"keys":[{"alg":"RS256","e":"AQAB","kid":"abc=","kty":"RSA","n":"` + rfc7638N + `","use":"sig","x5c":["MIIB"],"key_ops":["verify"]}]}`
	var s Set
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		t.Fatal(err)
	}
	k, ok := s.Lookup("abc=")
	if !ok {
		t.Fatal("kid not found")
	}
	if _, err := k.PublicKey(); err != nil {
		t.Fatal(err)
	}
}

func TestLookup(t *testing.T) {
	a := Key{Kty: "EC", Kid: "a", X: "1"}
	a2 := Key{Kty: "EC", Kid: "a", X: "2"}
	b := Key{Kty: "RSA", Kid: "b"}
	noKid := Key{Kty: "EC"}
	s := Set{Keys: []Key{noKid, a, b, a2}}
	tests := []struct {
		kid  string
		want Key
		ok   bool
	}{
		{"a", a, true}, // first match wins
		{"b", b, true},
		{"c", Key{}, false},
		{"", Key{}, false},
		{"A", Key{}, false},
	}
	for _, tt := range tests {
		got, ok := s.Lookup(tt.kid)
		if ok != tt.ok || got != tt.want {
			t.Errorf("Lookup(%q) = %+v, %v; want %+v, %v", tt.kid, got, ok, tt.want, tt.ok)
		}
	}
	if _, ok := (Set{}).Lookup("a"); ok {
		t.Error("empty set found a key")
	}
}

func bytesOf(b byte, n int) []byte {
	s := make([]byte, n)
	for i := range s {
		s[i] = b
	}
	return s
}
