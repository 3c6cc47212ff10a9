package runtimeapi_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goodfaith/goodfaith/internal/lambdaruntime"
	"github.com/goodfaith/goodfaith/internal/lambdaruntime/runtimeapi"
)

func do(t *testing.T, method, url, body string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestInvocationRoundTrip(t *testing.T) {
	s := runtimeapi.New()
	defer s.Close()
	base := "http://" + s.Addr() + "/2018-06-01/runtime/invocation/"

	inv := s.Invoke([]byte(`{"hello":1}`), 3*time.Second)
	resp, body := do(t, "GET", base+"next", "")
	if resp.StatusCode != 200 || body != `{"hello":1}` {
		t.Fatalf("next: %d %q", resp.StatusCode, body)
	}
	if got := resp.Header.Get("Lambda-Runtime-Aws-Request-Id"); got != inv.ID {
		t.Errorf("request id %q, want %q", got, inv.ID)
	}
	if got := resp.Header.Get("Lambda-Runtime-Deadline-Ms"); got != strconv.FormatInt(inv.Deadline.UnixMilli(), 10) {
		t.Errorf("deadline %q, want %d", got, inv.Deadline.UnixMilli())
	}
	if resp.Header.Get("Lambda-Runtime-Invoked-Function-Arn") != runtimeapi.FunctionARN {
		t.Errorf("function ARN %q", resp.Header.Get("Lambda-Runtime-Invoked-Function-Arn"))
	}
	if _, err := s.NextCalled(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if resp, _ := do(t, "POST", base+inv.ID+"/response", `{"ok":true}`); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("response: %d", resp.StatusCode)
	}
	res, err := inv.Wait(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if string(res.Response) != `{"ok":true}` || res.Error != nil {
		t.Errorf("result %+v", res)
	}
	// A second result for the same request is refused and recorded.
	if resp, _ := do(t, "POST", base+inv.ID+"/response", `{}`); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("second response: %d, want 400", resp.StatusCode)
	}
	if v := s.Violations(); len(v) != 1 || !strings.Contains(v[0], "already has a result") {
		t.Errorf("violations %q", v)
	}
}

func TestInvocationError(t *testing.T) {
	s := runtimeapi.New()
	defer s.Close()
	base := "http://" + s.Addr() + "/2018-06-01/runtime/invocation/"
	inv := s.Invoke([]byte(`[]`), time.Second)
	resp, _ := do(t, "GET", base+"next", "")
	id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
	if resp, _ := do(t, "POST", base+id+"/error", `{"errorMessage":"boom","errorType":"errorString"}`, "Lambda-Runtime-Function-Error-Type", "Unhandled"); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("error: %d", resp.StatusCode)
	}
	res, err := inv.Wait(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if res.Error == nil || res.Error.ErrorMessage != "boom" || res.Error.ErrorType != "errorString" || res.Error.Type != "Unhandled" || res.Response != nil {
		t.Errorf("result %+v (error %+v)", res, res.Error)
	}
	if v := s.Violations(); len(v) != 0 {
		t.Errorf("violations %q", v)
	}
}

func TestUnknownRequestAndPathsAreViolations(t *testing.T) {
	s := runtimeapi.New()
	defer s.Close()
	base := "http://" + s.Addr() + "/2018-06-01/runtime/"
	cases := []struct {
		method, path string
		status       int
	}{
		{"POST", "invocation/nope/response", 400},
		{"POST", "invocation/next", 405},
		{"GET", "init/error", 405},
		{"POST", "invocation/x/other", 404},
		{"GET", "../other", 404},
	}
	for _, c := range cases {
		if resp, _ := do(t, c.method, base+c.path, "{}"); resp.StatusCode != c.status {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, resp.StatusCode, c.status)
		}
	}
	if v := s.Violations(); len(v) != len(cases) {
		t.Errorf("violations %q; want %d", v, len(cases))
	}
}

func TestReportInitError(t *testing.T) {
	s := runtimeapi.New()
	defer s.Close()
	err := lambdaruntime.ReportInitError(ctx(t), s.Addr(), lambdaruntime.ErrorTypeConfig, errors.New("app: missing environment variable(s) TABLE_NAME"))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := s.InitError(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Type != lambdaruntime.ErrorTypeConfig || rep.ErrorType != lambdaruntime.ErrorTypeConfig || !strings.Contains(rep.ErrorMessage, "TABLE_NAME") {
		t.Errorf("report %+v", rep)
	}
	// Against a server that is gone, the report fails rather than hangs.
	s.Close()
	if err := lambdaruntime.ReportInitError(ctx(t), s.Addr(), "x", errors.New("y")); err == nil {
		t.Error("reporting to a closed server succeeded")
	}
}

func TestCloseEndsAPendingNext(t *testing.T) {
	s := runtimeapi.New()
	done := make(chan int, 1)
	go func() {
		resp, err := http.Get("http://" + s.Addr() + "/2018-06-01/runtime/invocation/next")
		if err != nil {
			done <- -1
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	if _, err := s.NextCalled(ctx(t)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	select {
	case code := <-done:
		if code == http.StatusOK {
			t.Errorf("next answered 200 after Close")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("next still blocked after Close")
	}
}
