// Package e2e drives the whole API over HTTP, as clinics and outside tests
// do, against both homes: the local server's assembly on the embedded store,
// and the AWS assembly on DynamoDB Local and MinIO. It holds only tests.
package e2e
