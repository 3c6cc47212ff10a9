// Package kmssigner is the AWS KMS adapter of the signing port: PSOs are
// signed by an asymmetric KMS key (key spec ECC_NIST_P256, signing algorithm
// ECDSA_SHA_256) whose private half never leaves KMS.
//
// New reads the key's public half once with GetPublicKey (DER
// SubjectPublicKeyInfo) and names it by its RFC 7638 thumbprint, as the
// local key file is named, so a JWKS lists both kinds of key the same way.
// Sign sends the SHA-256 digest (MessageType DIGEST) and converts the DER
// ECDSA signature KMS returns to the fixed-width r||s that JWS uses.
//
// The package kmstest serves the KMS JSON 1.1 wire protocol for Sign and
// GetPublicKey on loopback, so the adapter is tested through the real
// aws-sdk-go-v2 KMS client.
package kmssigner
