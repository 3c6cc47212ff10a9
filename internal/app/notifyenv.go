package app

import (
	"fmt"
	"log/slog"
	"net/mail"
	"strconv"
	"strings"

	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/notify"
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

// NotifyConfig chooses the delivery services of the AWS home's notifier;
// the senders themselves come from Needs.Senders (awsnotify.Senders), so
// that only the functions that send link the SES and SNS clients.
type NotifyConfig = notify.Delivery

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

// notifierWith is the outbox, routing to senders when there are any.
func notifierWith(senders map[string]notify.Sender, st store.Store, clk clock.Clock, log *slog.Logger) notify.Notifier {
	if len(senders) == 0 {
		return notify.Outbox{Store: st, Log: log}
	}
	return notify.Router{Store: st, Log: log, Clock: clk, Senders: senders}
}
