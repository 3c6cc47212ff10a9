package lambdahttp

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// Func is a Lambda handler of HTTP API (payload 2.0) events.
type Func = func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// Handler returns the Lambda handler that serves h. It never returns an
// error: whatever h writes, or a 400 for an event that is not a valid
// request, is the response. A panic in h is not recovered here; the Lambda
// runtime reports it and API Gateway answers 500.
func Handler(h http.Handler) Func {
	return func(ctx context.Context, e events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		r, err := newRequest(ctx, e)
		if err != nil {
			return badRequest(err), nil
		}
		w := &responseWriter{header: make(http.Header)}
		h.ServeHTTP(w, r)
		return w.event(r.Method), nil
	}
}

// newRequest builds the request an event describes.
func newRequest(ctx context.Context, e events.APIGatewayV2HTTPRequest) (*http.Request, error) {
	method := e.RequestContext.HTTP.Method
	if !validMethod(method) {
		return nil, fmt.Errorf("invalid method %q", method)
	}
	path := e.RawPath
	if path == "" {
		path = e.RequestContext.HTTP.Path
	}
	if !strings.HasPrefix(path, "/") {
		return nil, errors.New("the request path must start with /")
	}
	target := path
	if e.RawQueryString != "" {
		target += "?" + e.RawQueryString
	}
	u, err := url.ParseRequestURI(target)
	if err != nil {
		return nil, errors.New("the request path or query is malformed")
	}
	body := []byte(e.Body)
	if e.IsBase64Encoded {
		if body, err = base64.StdEncoding.DecodeString(e.Body); err != nil {
			return nil, errors.New("the request body is not valid base64")
		}
	}

	header := make(http.Header, len(e.Headers)+1)
	for k, v := range e.Headers {
		ck := http.CanonicalHeaderKey(k)
		header[ck] = append(header[ck], v)
	}
	if len(e.Cookies) > 0 {
		header["Cookie"] = []string{strings.Join(e.Cookies, "; ")}
	}
	// As net/http does, Host moves from the headers to the request.
	host := header.Get("Host")
	header.Del("Host")
	if host == "" {
		host = e.RequestContext.DomainName
	}
	major, minor, ok := http.ParseHTTPVersion(e.RequestContext.HTTP.Protocol)
	if !ok {
		major, minor = 1, 1
	}

	r := &http.Request{
		Method:        method,
		URL:           u,
		Proto:         fmt.Sprintf("HTTP/%d.%d", major, minor),
		ProtoMajor:    major,
		ProtoMinor:    minor,
		Header:        header,
		Body:          http.NoBody,
		ContentLength: int64(len(body)),
		Host:          host,
		RequestURI:    target,
	}
	if len(body) > 0 {
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	if ip := e.RequestContext.HTTP.SourceIP; ip != "" {
		// The port is unknown; 0 keeps RemoteAddr in net/http's IP:port form.
		r.RemoteAddr = net.JoinHostPort(ip, "0")
	}
	return r.WithContext(ctx), nil
}

// validMethod accepts an HTTP token (RFC 9110 section 5.6.2).
func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for _, c := range []byte(m) {
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// responseWriter collects a response. As in net/http, the status and
// headers are fixed by the first WriteHeader or Write.
type responseWriter struct {
	header http.Header
	sent   http.Header // header as of WriteHeader
	status int
	body   bytes.Buffer
}

func (w *responseWriter) Header() http.Header { return w.header }

func (w *responseWriter) WriteHeader(code int) {
	if w.status != 0 {
		return
	}
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("lambdahttp: invalid WriteHeader code %v", code))
	}
	if code < 200 {
		// Informational responses cannot travel through API Gateway.
		return
	}
	w.status = code
	w.sent = w.header.Clone()
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		if _, ok := w.header["Content-Type"]; !ok && len(p) > 0 {
			w.header.Set("Content-Type", http.DetectContentType(p))
		}
		w.WriteHeader(http.StatusOK)
	}
	return w.body.Write(p)
}

// event is the response event of what was written.
func (w *responseWriter) event(method string) events.APIGatewayV2HTTPResponse {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	out := events.APIGatewayV2HTTPResponse{StatusCode: w.status, Headers: make(map[string]string, len(w.sent))}
	for k, vs := range w.sent {
		if len(vs) == 0 {
			continue
		}
		if k == "Set-Cookie" {
			out.Cookies = append(out.Cookies, vs...)
			continue
		}
		out.Headers[k] = strings.Join(vs, ",")
	}
	body := w.body.Bytes()
	if method == http.MethodHead || len(body) == 0 {
		return out
	}
	if utf8.Valid(body) && textual(w.sent.Get("Content-Type")) {
		out.Body = string(body)
	} else {
		out.Body = base64.StdEncoding.EncodeToString(body)
		out.IsBase64Encoded = true
	}
	return out
}

// textual reports whether a content type is text that API Gateway may
// carry as a string.
func textual(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"),
		strings.HasSuffix(mt, "+json"), strings.HasSuffix(mt, "+xml"):
		return true
	}
	switch mt {
	case "application/json", "application/xml", "application/javascript",
		"application/x-www-form-urlencoded", "application/jose", "application/jwt":
		return true
	}
	return false
}

// badRequest answers an event that is not a valid request, in the API's
// error shape.
func badRequest(err error) events.APIGatewayV2HTTPResponse {
	body, _ := json.Marshal(map[string]any{"error": map[string]string{"code": "bad_request", "message": err.Error()}})
	return events.APIGatewayV2HTTPResponse{
		StatusCode: http.StatusBadRequest,
		Headers: map[string]string{
			"Content-Type":           "application/json",
			"Cache-Control":          "no-store",
			"X-Content-Type-Options": "nosniff",
		},
		Body: string(body),
	}
}
