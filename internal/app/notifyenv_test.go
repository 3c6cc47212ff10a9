package app

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/goodfaith/goodfaith/internal/notify"
	"github.com/goodfaith/goodfaith/internal/notify/awsnotify"
)

func TestNotifyFromEnvChoosesTheSenders(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	cfg := aws.Config{Region: "us-east-1"}

	c, err := notifyFromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, isOutbox := notifierWith(awsnotify.Senders(cfg, c), nil, nil, nil).(notify.Outbox); !isOutbox {
		t.Fatal("without variables the notifier is not the outbox")
	}

	c, err = notifyFromEnv(env(map[string]string{
		EnvNotifyEmailFrom: " Goodfaith <no-reply@goodfaith.example> ", EnvNotifySMSEnabled: "true", EnvNotifySMSSenderID: "Goodfaith",
	}))
	if err != nil {
		t.Fatal(err)
	}
	r, isRouter := notifierWith(awsnotify.Senders(cfg, c), nil, nil, nil).(notify.Router)
	if !isRouter {
		t.Fatal("with SES and SNS configured the notifier is not the router")
	}
	ses, _ := r.Senders["email"].(awsnotify.SES)
	sms, _ := r.Senders["sms"].(awsnotify.SNS)
	if ses.From != "Goodfaith <no-reply@goodfaith.example>" || sms.SenderID != "Goodfaith" || ses.Client == nil || sms.Client == nil || r.Senders["console"] != nil {
		t.Fatalf("senders = %#v", r.Senders)
	}

	c, _ = notifyFromEnv(env(map[string]string{EnvNotifySMSEnabled: "1"}))
	if r, _ := notifierWith(awsnotify.Senders(cfg, c), nil, nil, nil).(notify.Router); r.Senders["email"] != nil || r.Senders["sms"] == nil {
		t.Fatalf("SMS only: %#v", r.Senders)
	}

	for k, v := range map[string]string{EnvNotifyEmailFrom: "not an address", EnvNotifySMSEnabled: "maybe"} {
		if _, err := notifyFromEnv(env(map[string]string{k: v})); err == nil || !strings.Contains(err.Error(), k) {
			t.Fatalf("%s=%q: err %v", k, v, err)
		}
	}
}
