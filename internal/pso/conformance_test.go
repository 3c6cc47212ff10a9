package pso

import (
	"context"
	"testing"
	"time"

	"github.com/goodfaith/goodfaith/internal/jwk"
	"github.com/goodfaith/goodfaith/internal/signer"
	"github.com/goodfaith/goodfaith/internal/signer/kmssigner"
	"github.com/goodfaith/goodfaith/internal/signer/kmssigner/kmstest"
)

// TestPSOVerifiesTheSameWayWhicheverKeySigned: a PSO signed through the
// KMS adapter verifies with the JWKS derived from GetPublicKey alone, and
// one signed with the local key file verifies the same way with its own.
func TestPSOVerifiesTheSameWayWhicheverKeySigned(t *testing.T) {
	ctx := context.Background()
	srv := kmstest.Start(t)
	keyID := srv.CreateKey(t)
	viaKMS, err := kmssigner.New(ctx, srv.Client(), kmstest.ARN(keyID))
	if err != nil {
		t.Fatal(err)
	}
	fromGetPublicKey, err := kmssigner.PublicJWK(ctx, srv.Client(), keyID)
	if err != nil {
		t.Fatal(err)
	}
	local := newFileKey(t)
	for name, c := range map[string]struct {
		s    signer.Signer
		jwks jwk.Set
	}{
		"kms":      {viaKMS, jwk.Set{Keys: []jwk.Key{fromGetPublicKey}}},
		"key file": {local, signer.Keyring{Current: local}.JWKS()},
	} {
		t.Run(name, func(t *testing.T) {
			before := srv.Signs()
			rec, _, _ := issueOne(t, c.s)
			if name == "kms" && srv.Signs() == before {
				t.Fatal("the KMS endpoint signed nothing")
			}
			v := Verify(rec.JWS, c.jwks, issued.Add(time.Hour))
			if !v.Valid || v.KeyID != c.s.KeyID() || v.Doc.ID != "pso_1" {
				t.Fatalf("verify = %+v", v)
			}
			if v := Verify(rec.JWS, jwk.Set{Keys: []jwk.Key{fromGetPublicKey}}, issued); name == "key file" && v.Reason != ReasonUnknownKey {
				t.Fatalf("the local key's PSO under the KMS JWKS: %s", v.Reason)
			}
		})
	}
}
