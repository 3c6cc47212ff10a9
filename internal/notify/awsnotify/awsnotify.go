// Package awsnotify holds the AWS senders of the notifier port: SES (v2)
// for email and SNS for SMS. They send; notify.Router makes sending
// idempotent and routes by channel.
package awsnotify

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"

	"github.com/goodfaith/goodfaith/internal/notify"
)

// ServiceError is a delivery service's refusal, e.g. SES MessageRejected or
// SNS InvalidParameter. It names the service and its error code, never the
// address or the message.
type ServiceError struct {
	Service string // "ses" | "sns"
	Code    string // the service's error code
	Err     error
}

func (e *ServiceError) Error() string { return e.Service + ": " + e.Code }
func (e *ServiceError) Unwrap() error { return e.Err }

// wrap maps an SDK error to a ServiceError (for an API error) or an error
// naming the service (transport, credentials, …).
func wrap(service string, err error) error {
	var api smithy.APIError
	if errors.As(err, &api) {
		return &ServiceError{Service: service, Code: api.ErrorCode(), Err: err}
	}
	return fmt.Errorf("%s: %w", service, err)
}

// SESAPI is the part of the SES v2 client the sender uses.
type SESAPI interface {
	SendEmail(ctx context.Context, in *sesv2.SendEmailInput, opts ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

// SES sends email.
type SES struct {
	Client SESAPI
	From   string // a verified identity, e.g. "Goodfaith <no-reply@example.com>"
	// ConfigurationSet, if set, names the SES configuration set (event
	// publishing, suppression).
	ConfigurationSet string
}

var _ notify.Sender = SES{}

// Send sends m as a plain-text email to m.To.
func (s SES) Send(ctx context.Context, m notify.Message) error {
	in := &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(s.From),
		Destination:      &sestypes.Destination{ToAddresses: []string{m.To}},
		Content: &sestypes.EmailContent{Simple: &sestypes.Message{
			Subject: &sestypes.Content{Data: aws.String(m.Subject), Charset: aws.String("UTF-8")},
			Body:    &sestypes.Body{Text: &sestypes.Content{Data: aws.String(m.Body), Charset: aws.String("UTF-8")}},
		}},
		EmailTags: []sestypes.MessageTag{{Name: aws.String("goodfaith_message"), Value: aws.String(tagValue(m.ID))}},
	}
	if s.ConfigurationSet != "" {
		in.ConfigurationSetName = aws.String(s.ConfigurationSet)
	}
	if _, err := s.Client.SendEmail(ctx, in); err != nil {
		return wrap("ses", err)
	}
	return nil
}

// tagValue keeps what SES allows in a tag value: ASCII letters, digits,
// '_', '-', '.', '@' (message ids are made of these), at most 256.
func tagValue(s string) string {
	b := []byte(s)
	out := b[:0]
	for _, c := range b {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c == '@' {
			out = append(out, c)
		}
	}
	if len(out) > 256 {
		out = out[:256]
	}
	if len(out) == 0 {
		return "none"
	}
	return string(out)
}

// SNSAPI is the part of the SNS client the sender uses.
type SNSAPI interface {
	Publish(ctx context.Context, in *sns.PublishInput, opts ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// SNS sends SMS, transactional (never dropped for cost like promotional).
type SNS struct {
	Client   SNSAPI
	SenderID string // optional alphanumeric sender id where supported
}

var _ notify.Sender = SNS{}

// Send texts m's body to the phone number m.To (E.164). SMS has no subject.
func (s SNS) Send(ctx context.Context, m notify.Message) error {
	attrs := map[string]snstypes.MessageAttributeValue{
		"AWS.SNS.SMS.SMSType": {DataType: aws.String("String"), StringValue: aws.String("Transactional")},
	}
	if s.SenderID != "" {
		attrs["AWS.SNS.SMS.SenderID"] = snstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(s.SenderID)}
	}
	_, err := s.Client.Publish(ctx, &sns.PublishInput{PhoneNumber: aws.String(m.To), Message: aws.String(m.Body), MessageAttributes: attrs})
	if err != nil {
		return wrap("sns", err)
	}
	return nil
}

// Senders are the SES and SNS senders of the channels d configures, on
// clients built from cfg. It lives here, not in internal/app, so that only
// the Lambda functions that send link (and initialize) the SES and SNS
// clients: app.Needs.Senders.
func Senders(cfg aws.Config, d notify.Delivery) map[string]notify.Sender {
	senders := map[string]notify.Sender{}
	if d.EmailFrom != "" {
		senders["email"] = SES{Client: sesv2.NewFromConfig(cfg), From: d.EmailFrom, ConfigurationSet: d.SESConfigSet}
	}
	if d.SMS {
		senders["sms"] = SNS{Client: sns.NewFromConfig(cfg), SenderID: d.SMSSenderID}
	}
	return senders
}
