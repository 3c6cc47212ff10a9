package kmssigner_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"math/big"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/smithy-go"

	"github.com/goodfaith/goodfaith/internal/jwk"
	"github.com/goodfaith/goodfaith/internal/signer/kmssigner"
	"github.com/goodfaith/goodfaith/internal/signer/kmssigner/kmstest"
	"github.com/goodfaith/goodfaith/internal/signer/signertest"
)

func TestKMSConformance(t *testing.T) {
	srv := kmstest.Start(t)
	id := srv.CreateKey(t)
	for name, ref := range map[string]string{"id": id, "arn": kmstest.ARN(id), "alias": "alias/pso"} {
		t.Run(name, func(t *testing.T) {
			srv.Alias("alias/pso", id)
			s, err := kmssigner.New(context.Background(), srv.Client(), ref)
			if err != nil {
				t.Fatal(err)
			}
			if !s.Public().Equal(srv.Public(id)) {
				t.Fatal("the public key read with GetPublicKey is not the key's")
			}
			before := srv.Signs()
			signertest.Run(t, s)
			if srv.Signs() == before {
				t.Fatal("no signature was made by the KMS endpoint")
			}
		})
	}
}

func TestNewRefusesUnsuitableKeys(t *testing.T) {
	srv := kmstest.Start(t)
	ctx := context.Background()
	if _, err := kmssigner.New(ctx, srv.Client(), srv.CreateP384Key(t)); !errors.Is(err, kmssigner.ErrUnsuitableKey) {
		t.Fatalf("P-384 key: %v, want ErrUnsuitableKey", err)
	}
	_, err := kmssigner.New(ctx, srv.Client(), "no-such-key")
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "NotFoundException" {
		t.Fatalf("unknown key: %v, want the KMS NotFoundException", err)
	}
	if _, err := kmssigner.New(ctx, nil, "k"); err == nil {
		t.Fatal("a nil client was accepted")
	}
}

func TestPublicJWKNamesTheKeyAsTheSignerDoes(t *testing.T) {
	srv := kmstest.Start(t)
	id := srv.CreateKey(t)
	s, err := kmssigner.New(context.Background(), srv.Client(), id)
	if err != nil {
		t.Fatal(err)
	}
	k, err := kmssigner.PublicJWK(context.Background(), srv.Client(), id)
	if err != nil {
		t.Fatal(err)
	}
	if k != jwk.FromECDSA(s.Public(), s.KeyID()) {
		t.Fatalf("PublicJWK = %+v", k)
	}
}

func TestSignRefusesWhatIsNotADigest(t *testing.T) {
	srv := kmstest.Start(t)
	s, err := kmssigner.New(context.Background(), srv.Client(), srv.CreateKey(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sign(context.Background(), []byte("short")); err == nil {
		t.Fatal("a 5-byte digest was sent")
	}
}

// liar answers Sign with a fixed signature, as a broken or hostile
// endpoint might.
type liar struct {
	kmssigner.API
	sig []byte
}

func (l liar) Sign(context.Context, *kms.SignInput, ...func(*kms.Options)) (*kms.SignOutput, error) {
	return &kms.SignOutput{Signature: l.sig}, nil
}

func TestSignRefusesSignaturesThatDoNotVerify(t *testing.T) {
	srv := kmstest.Start(t)
	id := srv.CreateKey(t)
	other := srv.CreateKey(t)
	ctx := context.Background()
	otherSigner, err := kmssigner.New(ctx, srv.Client(), other)
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte("x"))
	raw, err := otherSigner.Sign(ctx, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	wrongKeyDER := derOf(t, raw)
	for name, sig := range map[string][]byte{
		"garbage":        []byte("not DER"),
		"trailing bytes": append(append([]byte{}, wrongKeyDER...), 0),
		"another key's":  wrongKeyDER,
		"zero r":         {0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x01},
	} {
		s, err := kmssigner.New(ctx, liar{API: srv.Client(), sig: sig}, id)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Sign(ctx, digest[:]); !errors.Is(err, kmssigner.ErrBadSignature) {
			t.Errorf("%s: %v, want ErrBadSignature", name, err)
		}
	}
}

func derOf(t *testing.T, p1363 []byte) []byte {
	t.Helper()
	r, s := new(big.Int).SetBytes(p1363[:32]), new(big.Int).SetBytes(p1363[32:])
	return asn1Sig(r, s)
}
