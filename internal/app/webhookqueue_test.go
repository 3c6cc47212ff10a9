package app

import (
	"context"
	"strings"
	"testing"

	"github.com/goodfaith/goodfaith/internal/queue/sqsqueue"
)

// The AWS home's webhook jobs go to the SQS queue WEBHOOK_QUEUE_URL names,
// signed for the region; the worker, the events consumer and replays share
// it. A URL that is not https (or http to loopback, for ElasticMQ) is
// refused by name.
func TestFromEnvSendsWebhookJobsToTheNamedQueue(t *testing.T) {
	env := validEnv(t)
	a, _, err := fromEnv(context.Background(), getenvOf(env))
	if err != nil {
		t.Fatal(err)
	}
	q, ok := a.Ports.Jobs.(*sqsqueue.Queue)
	if !ok || q.URL != env[EnvWebhookQueueURL] || q.Region != "us-east-1" || q.Credentials == nil {
		t.Fatalf("jobs = %#v; want the SQS queue of %s, signed in us-east-1", a.Ports.Jobs, EnvWebhookQueueURL)
	}
	if a.Integrations.Jobs != a.Ports.Jobs || a.Integrations.Queue.Jobs != a.Ports.Jobs || a.Integrations.Worker.Queue.Jobs != a.Ports.Jobs {
		t.Fatal("the integrations do not all use the home's queue")
	}
	env[EnvWebhookQueueURL] = "http://sqs.us-east-1.amazonaws.com/123456789012/jobs"
	if _, _, err := fromEnv(context.Background(), getenvOf(env)); err == nil || !strings.Contains(err.Error(), EnvWebhookQueueURL) {
		t.Fatalf("plain http to a public host: %v", err)
	}
}
