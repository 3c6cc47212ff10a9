// Package runtimeapi is a test double of the AWS Lambda Runtime API: an
// httptest server that speaks the documented protocol
// (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html) to a
// function's bootstrap process started with AWS_LAMBDA_RUNTIME_API set to
// its Addr.
//
//	GET  /2018-06-01/runtime/invocation/next            blocks until an event is queued, then
//	                                                     answers it with Lambda-Runtime-Aws-Request-Id,
//	                                                     Lambda-Runtime-Deadline-Ms,
//	                                                     Lambda-Runtime-Invoked-Function-Arn and
//	                                                     Lambda-Runtime-Trace-Id
//	POST /2018-06-01/runtime/invocation/{id}/response   the function's result → 202
//	POST /2018-06-01/runtime/invocation/{id}/error      an invocation error → 202
//	POST /2018-06-01/runtime/init/error                 an initialization error → 202
//
// Anything else — an unknown request id, a second result for one request,
// another method or path — is answered as the Runtime API answers it (400,
// 404 or 405) and recorded as a protocol violation that Violations returns,
// so that a test can fail on it.
//
// The AWS Runtime Interface Emulator would do the same job, but it cannot be
// installed here; this double implements only the runtime endpoints (not the
// extensions or telemetry APIs).
package runtimeapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

const prefix = "/2018-06-01/runtime/"

// Request ids are random in Lambda; here they count up.
const (
	headerRequestID   = "Lambda-Runtime-Aws-Request-Id"
	headerDeadline    = "Lambda-Runtime-Deadline-Ms"
	headerFunctionARN = "Lambda-Runtime-Invoked-Function-Arn"
	headerTraceID     = "Lambda-Runtime-Trace-Id"
	headerErrorType   = "Lambda-Runtime-Function-Error-Type"
)

// FunctionARN is the ARN every invocation carries.
const FunctionARN = "arn:aws:lambda:us-east-1:123456789012:function:goodfaith-test"

// maxPayload is Lambda's limit on a synchronous response (6 MB).
const maxPayload = 6 << 20

// ErrorReport is what a function posted to …/error or init/error.
type ErrorReport struct {
	// Type is the Lambda-Runtime-Function-Error-Type header (may be empty).
	Type string
	// ErrorType and ErrorMessage are the body's errorType and errorMessage.
	ErrorType    string
	ErrorMessage string
	// Body is the raw body.
	Body []byte
}

// Result is how one invocation ended: exactly one of Response and Error is
// set.
type Result struct {
	RequestID string
	Response  []byte
	Error     *ErrorReport
	// At is when the server received it.
	At time.Time
}

// Invocation is an event queued for the function.
type Invocation struct {
	ID       string
	Payload  []byte
	Deadline time.Time
	done     chan Result
}

// Wait returns the invocation's result, or ctx's error.
func (i *Invocation) Wait(ctx context.Context) (Result, error) {
	select {
	case r := <-i.done:
		return r, nil
	case <-ctx.Done():
		return Result{}, fmt.Errorf("runtimeapi: waiting for invocation %s: %w", i.ID, ctx.Err())
	}
}

// Server is the Runtime API double. Create it with New; Close it.
type Server struct {
	srv    *httptest.Server
	queue  chan *Invocation
	initCh chan ErrorReport
	nextCh chan time.Time
	closed chan struct{}
	once   sync.Once

	mu         sync.Mutex
	seq        int
	inFlight   map[string]*Invocation
	answered   map[string]bool
	violations []string
}

// New starts a server on a free loopback port.
func New() *Server {
	s := &Server{
		queue:    make(chan *Invocation, 64),
		initCh:   make(chan ErrorReport, 4),
		nextCh:   make(chan time.Time, 1024),
		closed:   make(chan struct{}),
		inFlight: map[string]*Invocation{},
		answered: map[string]bool{},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Addr is the host:port to put in AWS_LAMBDA_RUNTIME_API.
func (s *Server) Addr() string { return strings.TrimPrefix(s.srv.URL, "http://") }

// Close stops the server; pending GET …/next calls fail with 500, which
// makes aws-lambda-go's loop exit.
func (s *Server) Close() {
	s.once.Do(func() { close(s.closed) })
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// Invoke queues payload with a deadline timeout from now.
func (s *Server) Invoke(payload []byte, timeout time.Duration) *Invocation {
	s.mu.Lock()
	s.seq++
	id := fmt.Sprintf("00000000-0000-4000-8000-%012d", s.seq)
	s.mu.Unlock()
	inv := &Invocation{ID: id, Payload: payload, Deadline: time.Now().Add(timeout), done: make(chan Result, 1)}
	s.queue <- inv
	return inv
}

// NextCalled returns the time of the function's next GET …/next call
// (including calls already made and not yet returned by NextCalled), or
// ctx's error. The first one marks the end of the function's init phase.
func (s *Server) NextCalled(ctx context.Context) (time.Time, error) {
	select {
	case t := <-s.nextCh:
		return t, nil
	case <-ctx.Done():
		return time.Time{}, fmt.Errorf("runtimeapi: waiting for a GET …/invocation/next: %w", ctx.Err())
	}
}

// InitError returns the next init/error report, or ctx's error.
func (s *Server) InitError(ctx context.Context) (ErrorReport, error) {
	select {
	case r := <-s.initCh:
		return r, nil
	case <-ctx.Done():
		return ErrorReport{}, fmt.Errorf("runtimeapi: waiting for an init/error report: %w", ctx.Err())
	}
}

// Violations lists the protocol violations seen so far.
func (s *Server) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.violations...)
}

func (s *Server) violation(w http.ResponseWriter, status int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.mu.Lock()
	s.violations = append(s.violations, msg)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"errorMessage": msg, "errorType": "InvalidRequest"})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, prefix)
	if !ok {
		s.violation(w, http.StatusNotFound, "%s %s: not a Runtime API path", r.Method, r.URL.Path)
		return
	}
	switch {
	case rest == "invocation/next":
		if r.Method != http.MethodGet {
			s.violation(w, http.StatusMethodNotAllowed, "%s %s: want GET", r.Method, r.URL.Path)
			return
		}
		s.next(w, r)
	case rest == "init/error":
		if r.Method != http.MethodPost {
			s.violation(w, http.StatusMethodNotAllowed, "%s %s: want POST", r.Method, r.URL.Path)
			return
		}
		rep, err := readError(r)
		if err != nil {
			s.violation(w, http.StatusBadRequest, "init/error: %v", err)
			return
		}
		s.initCh <- rep
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, `{"status":"OK"}`)
	case strings.HasPrefix(rest, "invocation/"):
		id, what, ok := strings.Cut(strings.TrimPrefix(rest, "invocation/"), "/")
		if !ok || (what != "response" && what != "error") {
			s.violation(w, http.StatusNotFound, "%s %s: unknown endpoint", r.Method, r.URL.Path)
			return
		}
		if r.Method != http.MethodPost {
			s.violation(w, http.StatusMethodNotAllowed, "%s %s: want POST", r.Method, r.URL.Path)
			return
		}
		s.result(w, r, id, what)
	default:
		s.violation(w, http.StatusNotFound, "%s %s: unknown endpoint", r.Method, r.URL.Path)
	}
}

func (s *Server) next(w http.ResponseWriter, r *http.Request) {
	select {
	case s.nextCh <- time.Now():
	default: // nobody is counting
	}
	var inv *Invocation
	select {
	case inv = <-s.queue:
	case <-r.Context().Done():
		return
	case <-s.closed:
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	s.mu.Lock()
	s.inFlight[inv.ID] = inv
	s.mu.Unlock()
	h := w.Header()
	h.Set(headerRequestID, inv.ID)
	h.Set(headerDeadline, strconv.FormatInt(inv.Deadline.UnixMilli(), 10))
	h.Set(headerFunctionARN, FunctionARN)
	h.Set(headerTraceID, "Root=1-00000000-000000000000000000000000;Sampled=0")
	h.Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(inv.Payload)
}

func (s *Server) result(w http.ResponseWriter, r *http.Request, id, what string) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPayload+1))
	if err != nil {
		s.violation(w, http.StatusBadRequest, "%s of %s: reading the body: %v", what, id, err)
		return
	}
	if len(body) > maxPayload {
		s.mu.Lock()
		s.violations = append(s.violations, fmt.Sprintf("%s of %s: over %d bytes", what, id, maxPayload))
		s.mu.Unlock()
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		return
	}
	s.mu.Lock()
	inv, known := s.inFlight[id]
	dup := s.answered[id]
	if known && !dup {
		s.answered[id] = true
		delete(s.inFlight, id)
	}
	s.mu.Unlock()
	switch {
	case dup:
		s.violation(w, http.StatusBadRequest, "%s of %s: the request already has a result", what, id)
		return
	case !known:
		s.violation(w, http.StatusBadRequest, "%s of %s: no such request in flight", what, id)
		return
	}
	res := Result{RequestID: id, At: time.Now()}
	if what == "response" {
		res.Response = body
	} else {
		rep, err := parseError(r.Header.Get(headerErrorType), body)
		if err != nil {
			s.violation(w, http.StatusBadRequest, "error of %s: %v", id, err)
			inv.done <- Result{RequestID: id, At: res.At, Error: &ErrorReport{Body: body}}
			return
		}
		res.Error = &rep
	}
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"OK"}`)
	inv.done <- res
}

func readError(r *http.Request) (ErrorReport, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPayload))
	if err != nil {
		return ErrorReport{}, err
	}
	return parseError(r.Header.Get(headerErrorType), body)
}

// parseError reads an error body: {"errorMessage": …, "errorType": …, …}.
func parseError(typ string, body []byte) (ErrorReport, error) {
	var b struct {
		ErrorMessage *string `json:"errorMessage"`
		ErrorType    string  `json:"errorType"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		return ErrorReport{}, fmt.Errorf("the body is not an error document: %w", err)
	}
	if b.ErrorMessage == nil {
		return ErrorReport{}, errors.New("the error document has no errorMessage")
	}
	return ErrorReport{Type: typ, ErrorType: b.ErrorType, ErrorMessage: *b.ErrorMessage, Body: body}, nil
}
