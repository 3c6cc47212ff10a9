package app

import (
	"fmt"
	"log/slog"
	"net/mail"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/notify"
	"github.com/goodfaith/goodfaith/internal/notify/awsnotify"
	"github.com/goodfaith/goodfaith/internal/store"
)

// The notifier's environment (optional). Without them every message stays
// in the outbox, as on one machine. The SDK's own AWS_ENDPOINT_URL_SESV2
// and AWS_ENDPOINT_URL_SNS point the clients elsewhere in tests.
const (
	// EnvNotifyEmailFrom is the SES-verified sender of patient email, e.g.
	// "Goodfaith <no-reply@example.com>"; set, email goes out through SES.
	EnvNotifyEmailFrom = "NOTIFY_EMAIL_FROM"
	// EnvNotifySESConfigSet names an SES configuration set (optional).
	EnvNotifySESConfigSet = "NOTIFY_SES_CONFIGURATION_SET"
	// EnvNotifySMSEnabled, "true", sends SMS through SNS.
	EnvNotifySMSEnabled = "NOTIFY_SMS_ENABLED"
	// EnvNotifySMSSenderID is the SMS sender id where supported (optional).
	EnvNotifySMSSenderID = "NOTIFY_SMS_SENDER_ID"
)

// NotifyConfig chooses the delivery services of the AWS home's notifier.
type NotifyConfig struct {
	EmailFrom    string // empty: email stays in the outbox
	SESConfigSet string
	SMS          bool // false: SMS stays in the outbox
	SMSSenderID  string
}

// notifyFromEnv reads the notifier's variables.
func notifyFromEnv(getenv func(string) string) (NotifyConfig, error) {
	c := NotifyConfig{
		EmailFrom:    strings.TrimSpace(getenv(EnvNotifyEmailFrom)),
		SESConfigSet: strings.TrimSpace(getenv(EnvNotifySESConfigSet)),
		SMSSenderID:  strings.TrimSpace(getenv(EnvNotifySMSSenderID)),
	}
	if c.EmailFrom != "" {
		if _, err := mail.ParseAddress(c.EmailFrom); err != nil {
			return c, fmt.Errorf("app: %s is not an email address", EnvNotifyEmailFrom)
		}
	}
	if v := strings.TrimSpace(getenv(EnvNotifySMSEnabled)); v != "" {
		on, err := strconv.ParseBool(v)
		if err != nil {
			return c, fmt.Errorf("app: %s must be true or false", EnvNotifySMSEnabled)
		}
		c.SMS = on
	}
	return c, nil
}

// awsNotifier is the outbox, with SES and SNS senders for the channels
// configured.
func awsNotifier(cfg aws.Config, c NotifyConfig, st store.Store, clk clock.Clock, log *slog.Logger) notify.Notifier {
	return notifierWith(awsSenders(cfg, c), st, clk, log)
}

// awsSenders are the SES and SNS senders of the channels c configures.
func awsSenders(cfg aws.Config, c NotifyConfig) map[string]notify.Sender {
	senders := map[string]notify.Sender{}
	if c.EmailFrom != "" {
		senders["email"] = awsnotify.SES{Client: sesv2.NewFromConfig(cfg), From: c.EmailFrom, ConfigurationSet: c.SESConfigSet}
	}
	if c.SMS {
		senders["sms"] = awsnotify.SNS{Client: sns.NewFromConfig(cfg), SenderID: c.SMSSenderID}
	}
	return senders
}

// notifierWith is the outbox, routing to senders when there are any.
func notifierWith(senders map[string]notify.Sender, st store.Store, clk clock.Clock, log *slog.Logger) notify.Notifier {
	if len(senders) == 0 {
		return notify.Outbox{Store: st, Log: log}
	}
	return notify.Router{Store: st, Log: log, Clock: clk, Senders: senders}
}
