package apigw_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/goodfaith/goodfaith/internal/connections"
	"github.com/goodfaith/goodfaith/internal/connections/apigw"
)

// fakeManagementAPI speaks the Management API's PostToConnection: POST
// /{stage}/@connections/{id}, 200 for a live connection, 410 GoneException
// for a gone one.
type fakeManagementAPI struct {
	mu   sync.Mutex
	live map[string]bool
	got  map[string][]string
	auth []string
}

func (f *fakeManagementAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	const prefix = "/prod/@connections/"
	if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, prefix) {
		http.Error(w, "no route", http.StatusNotFound)
		return
	}
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	id := strings.TrimPrefix(r.URL.Path, prefix)
	body, _ := io.ReadAll(r.Body)
	if !f.live[id] {
		w.Header().Set("X-Amzn-Errortype", "GoneException")
		w.WriteHeader(http.StatusGone)
		_, _ = w.Write([]byte(`{"message":null}`))
		return
	}
	f.got[id] = append(f.got[id], string(body))
	w.WriteHeader(http.StatusOK)
}

func TestPostToConnection(t *testing.T) {
	fake := &fakeManagementAPI{live: map[string]bool{"Lx1=": true}, got: map[string][]string{}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	c, err := apigw.New(srv.URL+"/prod", "us-east-1", credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""))
	if err != nil {
		t.Fatal(err)
	}
	var _ connections.Sender = c
	ctx := context.Background()
	if err := c.Send(ctx, "Lx1=", []byte(`{"type":"join"}`)); err != nil {
		t.Fatal(err)
	}
	if got := fake.got["Lx1="]; len(got) != 1 || got[0] != `{"type":"join"}` {
		t.Fatalf("delivered %v", got)
	}
	if a := fake.auth[0]; !strings.HasPrefix(a, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") || !strings.Contains(a, "/us-east-1/execute-api/aws4_request") {
		t.Fatalf("not signed for execute-api: %q", a)
	}
	if err := c.Send(ctx, "gone1", []byte(`{}`)); !errors.Is(err, connections.ErrGone) {
		t.Fatalf("410 became %v", err)
	}
	if err := c.Send(ctx, "Lx1=", make([]byte, apigw.MaxMessageBytes+1)); !errors.Is(err, apigw.ErrTooLarge) {
		t.Fatalf("oversized message: %v", err)
	}
}

func TestServerErrorIsNotGone(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Amzn-Errortype", "LimitExceededException")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	c, err := apigw.New(srv.URL, "eu-west-1", credentials.NewStaticCredentialsProvider("AK", "SK", ""))
	if err != nil {
		t.Fatal(err)
	}
	err = c.Send(context.Background(), "abc", []byte(`{}`))
	if err == nil || errors.Is(err, connections.ErrGone) || !strings.Contains(err.Error(), "LimitExceededException") {
		t.Fatalf("throttle: %v", err)
	}
}

func TestNewRefusesBadEndpoint(t *testing.T) {
	for _, ep := range []string{"", "ftp://x", "/relative"} {
		if _, err := apigw.New(ep, "us-east-1", credentials.NewStaticCredentialsProvider("a", "b", "")); err == nil {
			t.Errorf("%q accepted", ep)
		}
	}
}
