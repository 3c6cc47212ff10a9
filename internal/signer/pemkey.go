package signer

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// ParseFileKeyPEM returns the FileKey held in pemBytes: one PEM block of
// type "PRIVATE KEY" with a PKCS#8 ECDSA P-256 key, the format
// LoadOrCreateFileKey writes. It serves keys that arrive without a file,
// such as the interim signing key of the AWS home, passed in an environment
// variable until the KMS signer replaces it.
//
// Error messages never contain key material.
func ParseFileKeyPEM(pemBytes []byte) (*FileKey, error) {
	block, rest := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("signer: no PEM block found")
	}
	if block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("signer: PEM block is %q, want \"PRIVATE KEY\" (PKCS#8)", block.Type)
	}
	if next, _ := pem.Decode(rest); next != nil {
		return nil, errors.New("signer: more than one PEM block; give exactly the signing key")
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, errors.New("signer: PEM block is not a PKCS#8 private key")
	}
	key, ok := parsed.(*ecdsa.PrivateKey)
	if !ok || key.Curve != elliptic.P256() {
		return nil, errors.New("signer: key is not an ECDSA P-256 key")
	}
	return newFileKey(key)
}
