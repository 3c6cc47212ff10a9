// Package httpapi is the HTTP API of API.md: the handlers that the Lambda
// functions (through an API Gateway adapter) and the local server mount
// alike. Handlers are thin: they authenticate, decode strictly, call the
// domain, and render. Domain errors become HTTP statuses in one place
// (errors.go).
package httpapi
