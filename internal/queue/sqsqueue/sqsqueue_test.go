package sqsqueue_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/goodfaith/goodfaith/internal/queue/sqsqueue"
)

// In AWS every call is signed with SigV4 for the sqs service and carries the
// query-protocol form; service errors come back as *Error with SQS's code.
func TestCallsAreSignedFormsAndErrorsAreMapped(t *testing.T) {
	var got *http.Request
	var form url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got, form = r.Clone(context.Background()), mustParse(t, string(body))
		if form.Get("Action") == "DeleteMessage" {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `<ErrorResponse><Error><Type>Sender</Type><Code>ReceiptHandleIsInvalid</Code><Message>bad handle</Message></Error></ErrorResponse>`)
			return
		}
		_, _ = io.WriteString(w, `<SendMessageResponse><SendMessageResult><MessageId>m-1</MessageId></SendMessageResult></SendMessageResponse>`)
	}))
	defer srv.Close()
	q := &sqsqueue.Queue{URL: srv.URL + "/123456789012/deliveries", Region: "us-west-2",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")}

	if err := q.Send(context.Background(), `{"event_id":"evt_1"}`, 90*time.Second); err != nil {
		t.Fatal(err)
	}
	auth := got.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") || !strings.Contains(auth, "/us-west-2/sqs/aws4_request") {
		t.Fatalf("Authorization %q: want SigV4 for sqs in us-west-2", auth)
	}
	if got.URL.Path != "/123456789012/deliveries" || form.Get("Action") != "SendMessage" || form.Get("Version") != "2012-11-05" ||
		form.Get("MessageBody") != `{"event_id":"evt_1"}` || form.Get("DelaySeconds") != "90" {
		t.Fatalf("request %s %v", got.URL.Path, form)
	}

	err := q.Delete(context.Background(), "r-1")
	var e *sqsqueue.Error
	if !errors.As(err, &e) || e.Code != "ReceiptHandleIsInvalid" || e.Status != 400 || e.Message != "bad handle" {
		t.Fatalf("Delete error %v, want the service error mapped", err)
	}
}

func mustParse(t *testing.T, s string) url.Values {
	v, err := url.ParseQuery(s)
	if err != nil {
		t.Error(err)
	}
	return v
}
