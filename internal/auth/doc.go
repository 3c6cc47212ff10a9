// Package auth establishes who is calling: it issues and verifies patient
// tokens, verifies provider tokens from the identity provider, runs the
// local dev issuer, and generates, hashes and checks clinic API keys.
//
// Callers and credentials (see the design's "Identity and access"):
//
//   - Patients hold a short-lived HS256 JWT bound to one exam, minted by
//     PatientTokens when the exam is created (audience "goodfaith-patient").
//   - Providers hold a JWT from the identity provider (Cognito in AWS, the
//     DevIssuer locally), checked by ProviderVerifier against a KeySource
//     (StaticKeys or RemoteJWKS), the issuer and the audience. Only RS256
//     and ES256 are accepted, and a token must name its key with kid.
//   - Clinic servers send a secret key "sk_…"; only its SHA-256 is stored
//     (HashSecretKey). The widget sends a publishable key "pk_…".
//
// Every failure caused by the credential itself (missing, malformed, bad
// signature, wrong audience, expired, unknown key …) returns an error that
// wraps ErrUnauthenticated, so the HTTP layer answers 401 with a single
// errors.Is check; the more specific sentinels in errors.go tell the cases
// apart for logs and tests. ErrKeysUnavailable is the exception: the
// provider keys could not be fetched at all, which is the server's problem
// (503), not the caller's.
//
// Error messages never contain token contents or claims.
package auth
