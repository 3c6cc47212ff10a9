package lambdahttp_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/goodfaith/goodfaith/internal/golden"
	"github.com/goodfaith/goodfaith/internal/lambdahttp"
)

const eventsDir = "../../testdata/events"

// seen is what the handler saw of a request.
type seen struct {
	Method        string              `json:"method"`
	Pattern       string              `json:"pattern"`
	ID            string              `json:"id"`
	Path          string              `json:"path"`
	EscapedPath   string              `json:"escaped_path"`
	RawQuery      string              `json:"raw_query"`
	Query         map[string][]string `json:"query"`
	RequestURI    string              `json:"request_uri"`
	Host          string              `json:"host"`
	RemoteAddr    string              `json:"remote_addr"`
	Proto         string              `json:"proto"`
	Header        map[string][]string `json:"header"`
	ContentLength int64               `json:"content_length"`
	Body          string              `json:"body"`
	HasDeadline   bool                `json:"has_deadline"`
}

// echoMux answers every request with what it saw, a 201 for POST, two
// cookies and a repeated header.
func echoMux(t *testing.T, got *seen) http.Handler {
	echo := func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("read body: %v", err)
		}
		_, hasDeadline := r.Context().Deadline()
		*got = seen{
			Method: r.Method, Pattern: r.Pattern, ID: r.PathValue("id"), Path: r.URL.Path, EscapedPath: r.URL.EscapedPath(),
			RawQuery: r.URL.RawQuery, Query: r.URL.Query(), RequestURI: r.RequestURI, Host: r.Host,
			RemoteAddr: r.RemoteAddr, Proto: r.Proto, Header: r.Header, ContentLength: r.ContentLength,
			Body: string(body), HasDeadline: hasDeadline,
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Add("Vary", "Origin")
		w.Header().Add("Vary", "Accept-Encoding")
		http.SetCookie(w, &http.Cookie{Name: "gf_seen", Value: "1", Path: "/", HttpOnly: true, Secure: true})
		http.SetCookie(w, &http.Cookie{Name: "gf_theme", Value: "dark", Path: "/"})
		status := http.StatusOK
		if r.Method == http.MethodPost {
			w.Header().Set("Location", "/v1/exams/ex_1")
			status = http.StatusCreated
		}
		w.WriteHeader(status)
		w.Header().Set("X-Too-Late", "ignored, as in net/http")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(got); err != nil {
			t.Error(err)
		}
	}
	mux := http.NewServeMux()
	for _, p := range []string{
		"GET /v1/clinic/exams", "POST /v1/exams", "PUT /v1/exams/{id}/intake",
		"GET /v1/provider/exams/{id}/attachments/{att}",
	} {
		mux.HandleFunc(p, echo)
	}
	return mux
}

func readEvent(t *testing.T, path string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var e events.APIGatewayV2HTTPRequest
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return e
}

func invoke(t *testing.T, h http.Handler, e events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := lambdahttp.Handler(h)(ctx, e)
	if err != nil {
		t.Fatalf("handler returned an error: %v", err)
	}
	return resp
}

// TestGoldenEvents runs every testdata/events/apigw-v2-*.json through the
// adapter and compares the response event with its golden file (the
// response body is what the handler saw). Run with -update to rewrite them.
func TestGoldenEvents(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(eventsDir, "apigw-v2-*.json"))
	if err != nil || len(files) < 4 {
		t.Fatalf("want at least 4 API Gateway v2 events, found %d (%v)", len(files), err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			var got seen
			resp := invoke(t, echoMux(t, &got), readEvent(t, file))
			out, err := json.MarshalIndent(resp, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, '\n')
			golden.Check(t, filepath.Join("testdata", name+".response.json"), out)
		})
	}
}

// TestEventsAsTheHandlerSeesThem spells out what the golden files hold for
// each event, so a careless -update cannot bless a regression.
func TestEventsAsTheHandlerSeesThem(t *testing.T) {
	t.Run("GET with query string", func(t *testing.T) {
		var got seen
		resp := invoke(t, echoMux(t, &got), readEvent(t, filepath.Join(eventsDir, "apigw-v2-get-query.json")))
		expect(t, "status", resp.StatusCode, http.StatusOK)
		expect(t, "method", got.Method, "GET")
		expect(t, "pattern", got.Pattern, "GET /v1/clinic/exams")
		expect(t, "path", got.Path, "/v1/clinic/exams")
		expect(t, "raw query", got.RawQuery, "status=queued&cursor=eyJwayI6IkNMSU5JQyNjbF8xIn0%3D&tag=a&tag=b")
		expect(t, "cursor", strings.Join(got.Query["cursor"], "|"), "eyJwayI6IkNMSU5JQyNjbF8xIn0=")
		expect(t, "repeated query parameter", strings.Join(got.Query["tag"], "|"), "a|b")
		expect(t, "request URI", got.RequestURI, "/v1/clinic/exams?status=queued&cursor=eyJwayI6IkNMSU5JQyNjbF8xIn0%3D&tag=a&tag=b")
		expect(t, "authorization", strings.Join(got.Header["Authorization"], "|"), "Bearer sk_test_aaaaaaaaaaaaaaaaaaaaaaaaaaaa")
		expect(t, "accept-encoding kept whole", strings.Join(got.Header["Accept-Encoding"], "|"), "gzip, deflate, br")
		expect(t, "host", got.Host, "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com")
		expect(t, "host left in the headers", len(got.Header["Host"]), 0)
		expect(t, "remote addr", got.RemoteAddr, "198.51.100.23:0")
		expect(t, "proto", got.Proto, "HTTP/1.1")
		expect(t, "content length", got.ContentLength, int64(0))
		expect(t, "deadline", got.HasDeadline, true)
		expect(t, "body is text", resp.IsBase64Encoded, false)
	})
	t.Run("POST with JSON body", func(t *testing.T) {
		var got seen
		e := readEvent(t, filepath.Join(eventsDir, "apigw-v2-post-json.json"))
		resp := invoke(t, echoMux(t, &got), e)
		expect(t, "status", resp.StatusCode, http.StatusCreated)
		expect(t, "method", got.Method, "POST")
		expect(t, "body", got.Body, e.Body)
		expect(t, "content length", got.ContentLength, int64(178))
		expect(t, "idempotency key with a comma", strings.Join(got.Header["Idempotency-Key"], "|"), "exam-create-7f3a, attempt 2")
		expect(t, "user agent with commas", strings.Join(got.Header["User-Agent"], "|"), e.Headers["user-agent"])
		expect(t, "publishable key", strings.Join(got.Header["X-Goodfaith-Key"], "|"), "pk_test_a")
		expect(t, "origin", strings.Join(got.Header["Origin"], "|"), "https://clinic-a.example")
		expect(t, "location", resp.Headers["Location"], "/v1/exams/ex_1")
		expect(t, "content type", resp.Headers["Content-Type"], "application/json")
		expect(t, "repeated response header", resp.Headers["Vary"], "Origin,Accept-Encoding")
		expect(t, "header set after WriteHeader", resp.Headers["X-Too-Late"], "")
		expect(t, "cookies", strings.Join(resp.Cookies, "|"), "gf_seen=1; Path=/; HttpOnly; Secure|gf_theme=dark; Path=/")
		if _, ok := resp.Headers["Set-Cookie"]; ok {
			t.Error("Set-Cookie is in the headers; API Gateway wants it in cookies")
		}
		var echoed seen
		if err := json.Unmarshal([]byte(resp.Body), &echoed); err != nil || echoed.Body != e.Body {
			t.Errorf("response body does not carry the echo: %v", err)
		}
	})
	t.Run("PUT with base64 body", func(t *testing.T) {
		var got seen
		resp := invoke(t, echoMux(t, &got), readEvent(t, filepath.Join(eventsDir, "apigw-v2-put-base64.json")))
		want := `{"answers":{"allergies":"Penicillin — hives","preferred_name":"José"},"consents":{"telehealth":true,"privacy":true},"modality":"async","attachments":["att_01"]}`
		expect(t, "status", resp.StatusCode, http.StatusOK)
		expect(t, "method", got.Method, "PUT")
		expect(t, "pattern", got.Pattern, "PUT /v1/exams/{id}/intake")
		expect(t, "path value", got.ID, "ex_01HZX3")
		expect(t, "decoded body", got.Body, want)
		expect(t, "content length", got.ContentLength, int64(len(want)))
		expect(t, "content type", strings.Join(got.Header["Content-Type"], "|"), "application/json; charset=utf-8")
	})
	t.Run("cookies and multi-value headers", func(t *testing.T) {
		var got seen
		resp := invoke(t, echoMux(t, &got), readEvent(t, filepath.Join(eventsDir, "apigw-v2-cookies-multivalue.json")))
		expect(t, "status", resp.StatusCode, http.StatusOK)
		expect(t, "pattern", got.Pattern, "GET /v1/provider/exams/{id}/attachments/{att}")
		expect(t, "decoded path value", got.ID, "ex 01")
		expect(t, "path", got.Path, "/v1/provider/exams/ex 01/attachments/att_01")
		expect(t, "escaped path", got.EscapedPath, "/v1/provider/exams/ex%2001/attachments/att_01")
		expect(t, "query", strings.Join(got.Query["name"], "|"), "before photo.jpg")
		expect(t, "cookie header", strings.Join(got.Header["Cookie"], "|"), "gf_console=s%3Aabc123; theme=dark")
		expect(t, "joined header", strings.Join(got.Header["X-Forwarded-For"], "|"), "203.0.113.7,10.0.0.1")
		expect(t, "list header", strings.Join(got.Header["X-Custom-List"], "|"), "one,two, three")
		expect(t, "accept", strings.Join(got.Header["Accept"], "|"), "application/json,text/plain;q=0.9,*/*;q=0.8")
	})
}

func TestCookiesParse(t *testing.T) {
	e := readEvent(t, filepath.Join(eventsDir, "apigw-v2-cookies-multivalue.json"))
	var theme string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie("theme"); err == nil {
			theme = c.Value
		}
	})
	invoke(t, h, e)
	expect(t, "cookie", theme, "dark")
}

func TestResponses(t *testing.T) {
	pdf := []byte("%PDF-1.7\n\xe2\xe3\xcf\xd3\n1 0 obj\n")
	get := events.APIGatewayV2HTTPRequest{RawPath: "/x", RequestContext: events.APIGatewayV2HTTPRequestContext{
		HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET"}}}
	head := get
	head.RequestContext.HTTP.Method = "HEAD"
	cases := []struct {
		name    string
		e       events.APIGatewayV2HTTPRequest
		h       http.HandlerFunc
		status  int
		ctype   string
		body    string
		base64  bool
		headers map[string]string
	}{
		{name: "binary body is base64", e: get, h: func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/pdf")
			w.Write(pdf)
		}, status: 200, ctype: "application/pdf", body: base64.StdEncoding.EncodeToString(pdf), base64: true},
		{name: "valid UTF-8 of a binary type is base64", e: get, h: func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Write([]byte("abc"))
		}, status: 200, ctype: "application/octet-stream", body: "YWJj", base64: true},
		{name: "text stays text", e: get, h: func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
			w.Write([]byte("exam_id,amount_cents\ntotal,2799\n"))
		}, status: 200, ctype: "text/csv; charset=utf-8", body: "exam_id,amount_cents\ntotal,2799\n"},
		{name: "invalid UTF-8 under a text type is base64", e: get, h: func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			w.Write([]byte{0xff, 0xfe})
		}, status: 200, ctype: "text/plain", body: "//4=", base64: true},
		{name: "content type is sniffed", e: get, h: func(w http.ResponseWriter, _ *http.Request) {
			w.Write([]byte("<!DOCTYPE html><p>hi"))
		}, status: 200, ctype: "text/html; charset=utf-8", body: "<!DOCTYPE html><p>hi"},
		{name: "nothing written is 200 and empty", e: get, h: func(http.ResponseWriter, *http.Request) {}, status: 200},
		{name: "first status wins", e: get, h: func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusNoContent)
			w.WriteHeader(http.StatusInternalServerError)
		}, status: 204},
		{name: "informational status is skipped", e: get, h: func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusEarlyHints)
			w.WriteHeader(http.StatusAccepted)
		}, status: 202},
		{name: "HEAD has no body", e: head, h: func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"a":1}`))
		}, status: 200, ctype: "application/json"},
		{name: "invalid base64 body is a 400", e: func() events.APIGatewayV2HTTPRequest {
			e := get
			e.Body, e.IsBase64Encoded = "not*base64", true
			return e
		}(), h: func(http.ResponseWriter, *http.Request) { t.Error("handler ran for an invalid event") },
			status: 400, ctype: "application/json",
			body: `{"error":{"code":"bad_request","message":"the request body is not valid base64"}}`},
		{name: "missing method is a 400", e: events.APIGatewayV2HTTPRequest{RawPath: "/x"},
			h:      func(http.ResponseWriter, *http.Request) { t.Error("handler ran for an invalid event") },
			status: 400, ctype: "application/json", body: `{"error":{"code":"bad_request","message":"invalid method \"\""}}`},
		{name: "relative path is a 400", e: func() events.APIGatewayV2HTTPRequest {
			e := get
			e.RawPath = "x"
			return e
		}(), h: func(http.ResponseWriter, *http.Request) { t.Error("handler ran for an invalid event") },
			status: 400, ctype: "application/json", body: `{"error":{"code":"bad_request","message":"the request path must start with /"}}`},
		{name: "path falls back to the request context", e: func() events.APIGatewayV2HTTPRequest {
			e := get
			e.RawPath = ""
			e.RequestContext.HTTP.Path = "/from/context"
			return e
		}(), h: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, r.URL.Path)
		}, status: 200, ctype: "text/plain", body: "/from/context"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := invoke(t, c.h, c.e)
			expect(t, "status", resp.StatusCode, c.status)
			expect(t, "content type", resp.Headers["Content-Type"], c.ctype)
			expect(t, "body", resp.Body, c.body)
			expect(t, "base64", resp.IsBase64Encoded, c.base64)
		})
	}
}

func TestInvocationContextReachesTheHandler(t *testing.T) {
	type key struct{}
	ctx := context.WithValue(context.Background(), key{}, "invocation")
	var got any
	h := http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = r.Context().Value(key{}) })
	e := events.APIGatewayV2HTTPRequest{RawPath: "/", RequestContext: events.APIGatewayV2HTTPRequestContext{
		DomainName: "api.example", HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET"}}}
	if _, err := lambdahttp.Handler(h)(ctx, e); err != nil {
		t.Fatal(err)
	}
	expect(t, "context value", got, any("invocation"))
}

func TestHostFallsBackToDomainName(t *testing.T) {
	var host string
	h := http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { host = r.Host })
	e := events.APIGatewayV2HTTPRequest{RawPath: "/", RequestContext: events.APIGatewayV2HTTPRequestContext{
		DomainName: "api.example", HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET"}}}
	invoke(t, h, e)
	expect(t, "host", host, "api.example")
}

func expect[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}
