// Package lambdaws serves signal.Handler behind an API Gateway WebSocket
// API: $connect (token from ?token=), $disconnect and $default events in,
// a status code out. It is the only signaling code that knows of Lambda.
package lambdaws
