// Package lambdahttp serves an http.Handler behind an API Gateway HTTP API:
// it turns each request event (payload format 2.0) into an *http.Request,
// runs the handler, and turns what the handler wrote into the response
// event. The Lambda functions of the API wrap the same handlers the local
// server mounts, so the HTTP behaviour is the same in both homes.
//
// Requests:
//
//   - The method comes from requestContext.http.method; the path and query
//     from rawPath and rawQueryString exactly as the client sent them (still
//     percent-encoded), so r.URL.Path, r.URL.RawPath and r.URL.RawQuery read
//     as they would behind net/http. The HTTP API must use its $default
//     stage: a named stage would prefix rawPath.
//   - Headers keep their values whole. API Gateway joins repeated headers
//     with commas, and a comma inside a value is not a separator for every
//     header (Idempotency-Key, User-Agent, …), so values are never split;
//     list-valued headers read the same joined or not. The cookies field
//     becomes one Cookie header, the pairs joined with "; " (RFC 6265).
//   - A base64-encoded body is decoded. Host comes from the host header
//     (else the domain name), RemoteAddr from the source IP, and the
//     request's context is the invocation's, so the handler sees the
//     function's deadline.
//
// Responses: the status is the first one written (200 when the handler
// writes none); headers are joined with commas, except Set-Cookie, whose
// values go to the cookies field one by one, as API Gateway requires. A
// body is sent as text when it is valid UTF-8 with a textual content type
// and base64-encoded otherwise. As in net/http, a body written without a
// Content-Type gets a sniffed one, and a HEAD response carries no body.
//
// An event that cannot be a request (an undecodable body, a bad method or
// path) is answered 400 with the API's error shape; it never reaches the
// handler.
//
// github.com/awslabs/aws-lambda-go-api-proxy is not used: its payload 2.0
// adapter splits every header value that is not on a short list at commas
// (awslabs/aws-lambda-go-api-proxy#171), which would turn an Idempotency-Key
// holding a comma into another key.
package lambdahttp
