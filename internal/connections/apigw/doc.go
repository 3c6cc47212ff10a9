// Package apigw is the connections.Sender of the AWS home: it posts to the
// API Gateway Management API (POST {endpoint}/@connections/{id}) signed
// with SigV4 for the execute-api service, and maps 410 GoneException to
// connections.ErrGone.
//
// It uses the SDK's SigV4 signer and credential chain directly because the
// generated apigatewaymanagementapi client module is not available from
// this project's module proxy; the wire protocol is the same.
package apigw
