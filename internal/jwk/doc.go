// Package jwk converts public signing keys to and from JSON Web Keys
// (RFC 7517, RFC 7518 section 6) and computes their RFC 7638 thumbprints.
//
// It covers exactly what Goodfaith verifies: ECDSA P-256 keys (ES256, the PSO
// signing keys and the local dev issuer) and RSA keys of at least 2048 bits
// (RS256, what Amazon Cognito publishes). Key.PublicKey validates what it
// parses: EC points must lie on P-256 with full-length coordinates, RSA
// moduli must be 2048 to 8192 bits with a sane exponent, and a key marked
// for any use other than signatures is refused. Private key members are
// never read or written.
package jwk
