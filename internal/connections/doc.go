// Package connections is the port through which the signaling handler
// sends messages to WebSocket clients, with the local server's in-process
// Hub as one adapter; package apigw is the other, the API Gateway
// Management API (POST /@connections/{id}).
package connections
