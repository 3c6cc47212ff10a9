package app

import (
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/goodfaith/goodfaith/internal/queue"
	"github.com/goodfaith/goodfaith/internal/queue/sqsqueue"
)

// EnvWebhookQueueURL is the SQS queue of webhook delivery jobs
// (template.yaml's WebhookDeliveryQueue; required). In tests it is a queue
// of ElasticMQ (infra/testenv/elasticmq.sh), whose URL names its endpoint.
const EnvWebhookQueueURL = "WEBHOOK_QUEUE_URL"

// webhookJobs is the SQS queue of webhook delivery jobs at url, signed
// with cfg's credentials; nil without a URL (the app then keeps an
// in-process queue, for tests and tools that run RunIntegrations).
func webhookJobs(cfg aws.Config, url string) queue.Queue {
	if url == "" {
		return nil
	}
	return &sqsqueue.Queue{URL: url, Region: cfg.Region, Credentials: cfg.Credentials}
}
