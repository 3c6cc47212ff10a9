package awsnotify

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/goodfaith/goodfaith/internal/notify"
)

// fakeAWS is an httptest server that records each request the SDK makes
// and answers with the status, headers and body a test sets.
type fakeAWS struct {
	*httptest.Server
	mu     sync.Mutex
	reqs   []captured
	status int
	header http.Header
	body   string
}

type captured struct {
	method, path, contentType, auth string
	body                            []byte
}

func newFake(t *testing.T) *fakeAWS {
	f := &fakeAWS{status: 200, header: http.Header{}}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.reqs = append(f.reqs, captured{r.Method, r.URL.Path, r.Header.Get("Content-Type"), r.Header.Get("Authorization"), b})
		status, header, body := f.status, f.header, f.body
		f.mu.Unlock()
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeAWS) answer(status int, header http.Header, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status, f.header, f.body = status, header, body
}

func (f *fakeAWS) requests() []captured {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]captured(nil), f.reqs...)
}

func awsConfig() aws.Config {
	return aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		RetryMaxAttempts: 1,
	}
}

var msg = notify.Message{ID: "invite-exm_1-email-0", To: "ana@example.com", Channel: "email",
	Subject: "Clinic A invites you", Body: "Open https://app.example/widget/?exam=exm_1#patient_token=t"}

func TestSESSendsTheEmailTheMessageSays(t *testing.T) {
	f := newFake(t)
	f.answer(200, http.Header{"Content-Type": {"application/json"}}, `{"MessageId":"0100018f-abc"}`)
	client := sesv2.NewFromConfig(awsConfig(), func(o *sesv2.Options) { o.BaseEndpoint = aws.String(f.URL) })
	s := SES{Client: client, From: "Goodfaith <no-reply@goodfaith.example>", ConfigurationSet: "goodfaith"}
	if err := s.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if r.method != "POST" || r.path != "/v2/email/outbound-emails" || !strings.HasPrefix(r.contentType, "application/json") {
		t.Fatalf("request %s %s (%s)", r.method, r.path, r.contentType)
	}
	if !strings.Contains(r.auth, "AWS4-HMAC-SHA256") || !strings.Contains(r.auth, "/ses/aws4_request") {
		t.Fatalf("not SigV4-signed for ses: %q", r.auth)
	}
	var got struct {
		FromEmailAddress     string
		ConfigurationSetName string
		Destination          struct{ ToAddresses []string }
		Content              struct {
			Simple struct {
				Subject struct{ Data, Charset string }
				Body    struct {
					Text struct{ Data, Charset string }
				}
			}
		}
		EmailTags []struct{ Name, Value string }
	}
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatalf("%v: %s", err, r.body)
	}
	if got.FromEmailAddress != s.From || got.ConfigurationSetName != "goodfaith" ||
		len(got.Destination.ToAddresses) != 1 || got.Destination.ToAddresses[0] != msg.To ||
		got.Content.Simple.Subject.Data != msg.Subject || got.Content.Simple.Body.Text.Data != msg.Body ||
		got.Content.Simple.Body.Text.Charset != "UTF-8" {
		t.Fatalf("SendEmail body = %s", r.body)
	}
	if len(got.EmailTags) != 1 || got.EmailTags[0].Value != "invite-exm_1-email-0" {
		t.Fatalf("tags = %v", got.EmailTags)
	}
}

func TestSESRefusalIsAnError(t *testing.T) {
	f := newFake(t)
	f.answer(400, http.Header{"Content-Type": {"application/json"}, "X-Amzn-Errortype": {"MessageRejected"}},
		`{"message":"Email address is not verified. The following identities failed the check: ana@example.com"}`)
	client := sesv2.NewFromConfig(awsConfig(), func(o *sesv2.Options) { o.BaseEndpoint = aws.String(f.URL) })
	err := SES{Client: client, From: "no-reply@goodfaith.example"}.Send(context.Background(), msg)
	var se *ServiceError
	if !errors.As(err, &se) || se.Service != "ses" || se.Code != "MessageRejected" {
		t.Fatalf("err = %#v", err)
	}
	if strings.Contains(err.Error(), "ana@example.com") {
		t.Fatalf("error text carries the address: %q", err.Error())
	}
	// A server error (after the SDK's retries) is an error too.
	f.answer(503, http.Header{"Content-Type": {"application/json"}, "X-Amzn-Errortype": {"ServiceUnavailable"}}, `{"message":"down"}`)
	if err := (SES{Client: client, From: "x@goodfaith.example"}).Send(context.Background(), msg); !errors.As(err, &se) || se.Code != "ServiceUnavailable" {
		t.Fatalf("503: err = %v", err)
	}
}

const snsOK = `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">
  <PublishResult><MessageId>567910cd-659e-55d4-8ccb-5aaf14679dc0</MessageId></PublishResult>
  <ResponseMetadata><RequestId>d74b8436-ae13-5ab4-a9ff-ce54dfea72a0</RequestId></ResponseMetadata>
</PublishResponse>`

func TestSNSPublishesTheSMSTheMessageSays(t *testing.T) {
	f := newFake(t)
	f.answer(200, http.Header{"Content-Type": {"text/xml"}}, snsOK)
	client := sns.NewFromConfig(awsConfig(), func(o *sns.Options) { o.BaseEndpoint = aws.String(f.URL) })
	sms := msg
	sms.Channel, sms.To = "sms", "+15125550100"
	if err := (SNS{Client: client, SenderID: "Goodfaith"}).Send(context.Background(), sms); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if r.method != "POST" || r.path != "/" || !strings.HasPrefix(r.contentType, "application/x-www-form-urlencoded") {
		t.Fatalf("request %s %s (%s)", r.method, r.path, r.contentType)
	}
	if !strings.Contains(r.auth, "/sns/aws4_request") {
		t.Fatalf("not SigV4-signed for sns: %q", r.auth)
	}
	form, err := url.ParseQuery(string(r.body))
	if err != nil {
		t.Fatal(err)
	}
	if form.Get("Action") != "Publish" || form.Get("Version") != "2010-03-31" ||
		form.Get("PhoneNumber") != "+15125550100" || form.Get("Message") != sms.Body || form.Get("TopicArn") != "" {
		t.Fatalf("Publish form = %v", form)
	}
	attrs := map[string]string{}
	for i := 1; form.Get("MessageAttributes.entry."+itoa(i)+".Name") != ""; i++ {
		p := "MessageAttributes.entry." + itoa(i)
		if form.Get(p+".Value.DataType") != "String" {
			t.Fatalf("attribute %d: %v", i, form)
		}
		attrs[form.Get(p+".Name")] = form.Get(p + ".Value.StringValue")
	}
	if attrs["AWS.SNS.SMS.SMSType"] != "Transactional" || attrs["AWS.SNS.SMS.SenderID"] != "Goodfaith" {
		t.Fatalf("message attributes = %v (form %v)", attrs, form)
	}
}

func itoa(i int) string { return string(rune('0' + i)) }

func TestSNSRefusalIsAnError(t *testing.T) {
	f := newFake(t)
	f.answer(400, http.Header{"Content-Type": {"text/xml"}}, `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">
  <Error><Type>Sender</Type><Code>InvalidParameter</Code><Message>Invalid parameter: PhoneNumber Reason: +1 is not valid</Message></Error>
  <RequestId>9d1c2f4e-0000-0000-0000-000000000000</RequestId>
</ErrorResponse>`)
	client := sns.NewFromConfig(awsConfig(), func(o *sns.Options) { o.BaseEndpoint = aws.String(f.URL) })
	sms := msg
	sms.Channel, sms.To = "sms", "+1"
	err := SNS{Client: client}.Send(context.Background(), sms)
	var se *ServiceError
	if !errors.As(err, &se) || se.Service != "sns" || se.Code != "InvalidParameter" {
		t.Fatalf("err = %#v", err)
	}
	if err.Error() != "sns: InvalidParameter" {
		t.Fatalf("error text %q", err.Error())
	}
}
