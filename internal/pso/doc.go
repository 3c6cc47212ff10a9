// Package pso builds, signs, stores and verifies Patient-Specific Orders.
//
// A PSO is a JSON document signed as a compact JWS (ES256, kid in the
// header) through the signer port, written once to object storage under
// retention, and indexed in the store. Verification needs only the public
// JWKS, so a clinic, pharmacy or inspector can check an order without
// trusting us.
package pso
