// Package signer is the signing port: sign a SHA-256 digest with an ECDSA
// P-256 key and publish the public keys as a JWKS. Adapters: a key file on
// disk (this package's FileKey, the local default) and AWS KMS (later).
//
// JWS produces compact ES256 tokens through any Signer with
// golang-jwt/jwt/v5, using a signing method value that is never registered
// globally, so the library's stock ES256 stays in charge of verification
// everywhere, including in other parsers in the same process.
package signer
