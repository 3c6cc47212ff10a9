package kmssigner

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/goodfaith/goodfaith/internal/jwk"
	"github.com/goodfaith/goodfaith/internal/signer"
)

// API is the part of the KMS client the adapter uses; *kms.Client
// implements it.
type API interface {
	Sign(ctx context.Context, in *kms.SignInput, optFns ...func(*kms.Options)) (*kms.SignOutput, error)
	GetPublicKey(ctx context.Context, in *kms.GetPublicKeyInput, optFns ...func(*kms.Options)) (*kms.GetPublicKeyOutput, error)
}

var _ API = (*kms.Client)(nil)

// ErrUnsuitableKey is returned by New and PublicJWK for a KMS key that is
// not an ECC_NIST_P256 signing key able to use ECDSA_SHA_256.
var ErrUnsuitableKey = errors.New("kmssigner: the KMS key is not an ECC_NIST_P256 SIGN_VERIFY key with ECDSA_SHA_256")

// ErrBadSignature is returned by Sign when KMS answers with something that
// is not a DER ECDSA signature over P-256, or one that does not verify
// under the key's public half.
var ErrBadSignature = errors.New("kmssigner: KMS returned an invalid signature")

// Signer signs through one KMS key.
type Signer struct {
	client API
	keyID  string // as configured: id, ARN or alias
	pub    *ecdsa.PublicKey
	kid    string
}

var _ signer.Signer = (*Signer)(nil)

// New returns the signer of the KMS key keyID (id, ARN or alias), after
// reading and checking its public key.
func New(ctx context.Context, client API, keyID string) (*Signer, error) {
	if client == nil || keyID == "" {
		return nil, errors.New("kmssigner: a KMS client and a key id are required")
	}
	pub, err := publicKey(ctx, client, keyID)
	if err != nil {
		return nil, err
	}
	kid, err := jwk.Thumbprint(pub)
	if err != nil {
		return nil, err
	}
	return &Signer{client: client, keyID: keyID, pub: pub, kid: kid}, nil
}

// PublicJWK returns the JWK of a KMS key's public half, named by its
// thumbprint: how a retired KMS key stays in the JWKS after a rotation.
func PublicJWK(ctx context.Context, client API, keyID string) (jwk.Key, error) {
	pub, err := publicKey(ctx, client, keyID)
	if err != nil {
		return jwk.Key{}, err
	}
	kid, err := jwk.Thumbprint(pub)
	if err != nil {
		return jwk.Key{}, err
	}
	return jwk.FromECDSA(pub, kid), nil
}

func publicKey(ctx context.Context, client API, keyID string) (*ecdsa.PublicKey, error) {
	out, err := client.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: aws.String(keyID)})
	if err != nil {
		return nil, fmt.Errorf("kmssigner: GetPublicKey: %w", err)
	}
	if out.KeySpec != types.KeySpecEccNistP256 || out.KeyUsage != types.KeyUsageTypeSignVerify ||
		!slices.Contains(out.SigningAlgorithms, types.SigningAlgorithmSpecEcdsaSha256) {
		return nil, fmt.Errorf("%w (spec %q, usage %q)", ErrUnsuitableKey, out.KeySpec, out.KeyUsage)
	}
	parsed, err := x509.ParsePKIXPublicKey(out.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("%w: public key: %v", ErrUnsuitableKey, err)
	}
	pub, ok := parsed.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		return nil, fmt.Errorf("%w: public key is not P-256", ErrUnsuitableKey)
	}
	return pub, nil
}

// KeyID is the key's RFC 7638 thumbprint.
func (s *Signer) KeyID() string { return s.kid }

// Public returns the key's public half.
func (s *Signer) Public() *ecdsa.PublicKey { return s.pub }

// Sign has KMS sign the SHA-256 digest and returns r||s (64 bytes). The
// signature is checked against the public key before it is returned, so a
// misbehaving endpoint cannot make us publish an order nobody can verify.
func (s *Signer) Sign(ctx context.Context, digest []byte) ([]byte, error) {
	if len(digest) != 32 {
		return nil, fmt.Errorf("kmssigner: digest is %d bytes, want a SHA-256 digest (32)", len(digest))
	}
	out, err := s.client.Sign(ctx, &kms.SignInput{
		KeyId:            aws.String(s.keyID),
		Message:          digest,
		MessageType:      types.MessageTypeDigest,
		SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256,
	})
	if err != nil {
		return nil, fmt.Errorf("kmssigner: Sign: %w", err)
	}
	r, sv, err := ParseDER(out.Signature)
	if err != nil {
		return nil, err
	}
	if !ecdsa.Verify(s.pub, digest, r, sv) {
		return nil, fmt.Errorf("%w: it does not verify under the key", ErrBadSignature)
	}
	return signer.P1363(r, sv), nil
}

// ParseDER reads an ASN.1 DER ECDSA-Sig-Value (SEQUENCE { r, s INTEGER }),
// as KMS returns it, refusing trailing bytes and values outside P-256's
// scalar range.
func ParseDER(der []byte) (r, s *big.Int, err error) {
	var sig struct{ R, S *big.Int }
	rest, err := asn1.Unmarshal(der, &sig)
	if err != nil || len(rest) != 0 {
		return nil, nil, fmt.Errorf("%w: not a DER ECDSA signature", ErrBadSignature)
	}
	n := elliptic.P256().Params().N
	for _, v := range []*big.Int{sig.R, sig.S} {
		if v == nil || v.Sign() <= 0 || v.Cmp(n) >= 0 {
			return nil, nil, fmt.Errorf("%w: r or s out of range", ErrBadSignature)
		}
	}
	return sig.R, sig.S, nil
}
