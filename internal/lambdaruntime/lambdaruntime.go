// Package lambdaruntime tells the AWS Lambda Runtime API why a function
// could not start.
//
// aws-lambda-go reports invocation errors (…/invocation/{id}/error) but has
// no way to report an initialization error: a function whose environment is
// wrong would just exit, and Lambda would record only "Runtime exited with
// error: exit status 1". Fail posts the reason to
// /2018-06-01/runtime/init/error first, as the Runtime API documents
// (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html#runtimes-api-initerror),
// so that the error type and message reach the function's logs and the
// caller's error, and then exits.
package lambdaruntime

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

const (
	// APIVar is the variable in which Lambda passes the Runtime API's
	// host:port to the bootstrap process.
	APIVar = "AWS_LAMBDA_RUNTIME_API"
	// APIVersion is the path prefix of the Runtime API.
	APIVersion = "2018-06-01"
	// ErrorTypeHeader carries the error type of an error report.
	ErrorTypeHeader = "Lambda-Runtime-Function-Error-Type"
	// ErrorTypeConfig is the type Fail reports: the function's environment
	// is missing or invalid.
	ErrorTypeConfig = "Function.InvalidConfiguration"
)

// ErrorBody is the JSON body of an error report.
type ErrorBody struct {
	ErrorMessage string   `json:"errorMessage"`
	ErrorType    string   `json:"errorType"`
	StackTrace   []string `json:"stackTrace,omitempty"`
}

// ReportInitError posts err to the init/error endpoint of the Runtime API
// at api (host:port), with errorType typ. The message is err's text, which
// must hold no secret (app.Build names variables, never their values).
func ReportInitError(ctx context.Context, api, typ string, err error) error {
	body, _ := json.Marshal(ErrorBody{ErrorMessage: err.Error(), ErrorType: typ})
	url := "http://" + api + "/" + APIVersion + "/runtime/init/error"
	req, rerr := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if rerr != nil {
		return fmt.Errorf("lambdaruntime: %w", rerr)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(ErrorTypeHeader, typ)
	// Never through a proxy: the Runtime API is local to the sandbox.
	client := &http.Client{Transport: &http.Transport{Proxy: nil}}
	resp, rerr := client.Do(req)
	if rerr != nil {
		return fmt.Errorf("lambdaruntime: posting the init error: %w", rerr)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("lambdaruntime: posting the init error: status %d", resp.StatusCode)
	}
	return nil
}

// reportTimeout bounds the init error report.
const reportTimeout = 2 * time.Second

// Fail reports that the function called name could not start because of
// err: on stderr (the function's log), to the Runtime API when one is set,
// and by exiting with status 1. It does not return.
func Fail(name string, err error) {
	fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
	if api := os.Getenv(APIVar); api != "" {
		ctx, cancel := context.WithTimeout(context.Background(), reportTimeout)
		if rerr := ReportInitError(ctx, api, ErrorTypeConfig, err); rerr != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", name, rerr)
		}
		cancel()
	}
	os.Exit(1)
}
