package auth

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func TestGenerateSecretKey(t *testing.T) {
	for name, gen := range map[string]struct {
		f      func() (string, error)
		prefix string
	}{
		"live": {GenerateSecretKey, "sk_live_"},
		"test": {GenerateTestSecretKey, "sk_test_"},
	} {
		seen := map[string]bool{}
		for i := 0; i < 100; i++ {
			k, err := gen.f()
			if err != nil {
				t.Fatal(err)
			}
			body, ok := strings.CutPrefix(k, gen.prefix)
			if !ok {
				t.Fatalf("%s: %q lacks prefix %s", name, k, gen.prefix)
			}
			raw, err := base64.RawURLEncoding.DecodeString(body)
			if err != nil || len(raw) != 32 {
				t.Fatalf("%s: body %q is not 32 bytes of base64url: %v", name, body, err)
			}
			if !ValidSecretKeyFormat(k) || CheckSecretKeyFormat(k) != nil {
				t.Fatalf("%s: generated key %q fails its own format check", name, k)
			}
			if seen[k] {
				t.Fatalf("%s: repeated key", name)
			}
			seen[k] = true
		}
	}
}

func TestHashSecretKey(t *testing.T) {
	// SHA-256("abc") from FIPS 180-2.
	if got := HashSecretKey("abc"); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Fatalf("HashSecretKey(abc) = %s", got)
	}
	if HashSecretKey("sk_test_glow") == HashSecretKey("sk_test_glox") {
		t.Fatal("different keys, same hash")
	}
}

func TestValidSecretKeyFormat(t *testing.T) {
	live := "sk_live_" + base64.RawURLEncoding.EncodeToString(make([]byte, 32))
	cases := []struct {
		key  string
		want bool
	}{
		{live, true},
		{"sk_test_glow", true}, // the demo seed's hand-chosen test key
		{"sk_test_" + strings.Repeat("a", 128), true},
		{"sk_test_a-b_C9", true},
		{"", false},
		{"sk_live_", false},
		{"sk_test_", false},
		{"sk_live_glow", false}, // live keys must be generated
		{live + "A", false},
		{live[:len(live)-1], false},
		{live[:len(live)-1] + "B", false}, // non-zero trailing bits: not canonical base64url
		{"sk_live_" + strings.Repeat("+", 43), false},
		{"sk_test_" + strings.Repeat("a", 129), false},
		{"sk_test_gl ow", false},
		{"sk_test_glow\n", false},
		{"sk_test_glöw", false},
		{"SK_TEST_glow", false},
		{"sk_prod_abc", false},
		{"pk_test_glow", false},
		{"Bearer sk_test_glow", false},
	}
	for _, c := range cases {
		if got := ValidSecretKeyFormat(c.key); got != c.want {
			t.Errorf("ValidSecretKeyFormat(%q) = %v, want %v", c.key, got, c.want)
		}
	}
	if err := CheckSecretKeyFormat(""); !errors.Is(err, ErrMissingCredential) {
		t.Errorf("empty: %v", err)
	}
	if err := CheckSecretKeyFormat("sk_nope"); !errors.Is(err, ErrInvalidAPIKey) || !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("bad: %v", err)
	}
}

func TestValidPublishableKeyFormat(t *testing.T) {
	cases := []struct {
		key  string
		want bool
	}{
		{"pk_test_glow", true},
		{"pk_live_0123456789abcdefABCDEF", true},
		{"pk_x", true},
		{"pk_" + strings.Repeat("a", MaxPublishableKeyLen-3), true},
		{"pk_" + strings.Repeat("a", MaxPublishableKeyLen-2), false},
		{"pk_", false},
		{"", false},
		{"sk_test_glow", false},
		{"PK_test", false},
		{"pk_test glow", false},
		{"pk_test<script>", false},
		{"pk_test/glow", false},
		{"pk_tést", false},
		{"pk_test\x00", false},
	}
	for _, c := range cases {
		if got := ValidPublishableKeyFormat(c.key); got != c.want {
			t.Errorf("ValidPublishableKeyFormat(%q) = %v, want %v", c.key, got, c.want)
		}
	}
}

func TestParseBearer(t *testing.T) {
	jwtLike := "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"
	cases := []struct {
		header string
		want   string
		err    error
	}{
		{"Bearer " + jwtLike, jwtLike, nil},
		{"bearer " + jwtLike, jwtLike, nil},
		{"BEARER sk_test_glow", "sk_test_glow", nil},
		{"Bearer   abc", "abc", nil},
		{"  Bearer abc\t", "abc", nil},
		{"Bearer a+b/c~d.e_f-g==", "a+b/c~d.e_f-g==", nil},
		{"", "", ErrMissingCredential},
		{"   ", "", ErrMissingCredential},
		{"Bearer", "", ErrMalformedCredential},
		{"Bearer ", "", ErrMalformedCredential},
		{"Bearer a b", "", ErrMalformedCredential},
		{"Bearer a,b", "", ErrMalformedCredential},
		{"Bearer =abc", "", ErrMalformedCredential},
		{"Bearer ab=c", "", ErrMalformedCredential},
		{"Bearer\tabc", "", ErrMalformedCredential},
		{"Basic dXNlcjpwYXNz", "", ErrMalformedCredential},
		{"Bearerabc", "", ErrMalformedCredential},
		{"Token abc", "", ErrMalformedCredential},
		{jwtLike, "", ErrMalformedCredential},
		{"Bearer abc\x00", "", ErrMalformedCredential},
		{"Bearer " + strings.Repeat("a", MaxTokenLen+1), "", ErrMalformedCredential},
	}
	for _, c := range cases {
		got, err := ParseBearer(c.header)
		if got != c.want || !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
			t.Errorf("ParseBearer(%.40q) = %q, %v; want %q, %v", c.header, got, err, c.want, c.err)
		}
		if err != nil && !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("ParseBearer(%.40q): %v does not wrap ErrUnauthenticated", c.header, err)
		}
	}
	if got, err := ParseBearer("Bearer " + strings.Repeat("a", MaxTokenLen)); err != nil || len(got) != MaxTokenLen {
		t.Errorf("max-length token: %v", err)
	}
}

func TestRoles(t *testing.T) {
	for _, r := range []Role{RolePatient, RoleProvider, RoleClinic} {
		if !r.Valid() {
			t.Errorf("%s not valid", r)
		}
	}
	for _, r := range []Role{"", "admin", "Patient"} {
		if r.Valid() {
			t.Errorf("%q valid", r)
		}
	}
}

func TestSentinelsWrapUnauthenticated(t *testing.T) {
	for _, s := range sentinels {
		if !errors.Is(s, ErrUnauthenticated) {
			t.Errorf("%v does not wrap ErrUnauthenticated", s)
		}
	}
	for i, a := range sentinels {
		for j, b := range sentinels {
			if i != j && errors.Is(a, b) {
				t.Errorf("%v matches %v", a, b)
			}
		}
	}
	if errors.Is(ErrKeysUnavailable, ErrUnauthenticated) {
		t.Error("ErrKeysUnavailable must not be a 401")
	}
}
