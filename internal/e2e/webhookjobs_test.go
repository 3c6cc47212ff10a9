package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/goodfaith/goodfaith/internal/queue/sqsqueue"
	"github.com/goodfaith/goodfaith/internal/webhook"
)

// On the AWS home's wiring the webhook path is exam decided → DynamoDB
// stream consumer → delivery record + job on SQS (ElasticMQ) → the worker
// polling the queue → the clinic's receiver on loopback; afterwards the
// store holds the delivery as delivered once and the queue holds no job.
func TestWebhookJobsTravelThroughSQSOnTheAWSHome(t *testing.T) {
	e := openAWS(t, true)
	q, ok := e.App.Integrations.Jobs.(*sqsqueue.Queue)
	if !ok {
		t.Fatalf("the AWS home's webhook jobs go through %T, not SQS", e.App.Integrations.Jobs)
	}
	rc := newHookReceiver(t, 0)
	hook := e.must(200, e.do("PUT", "/v1/clinic/webhook", bearer(skA), map[string]string{"url": rc.URL + "/hooks"})).json(t)
	secret, _ := hook["secret"].(string)

	id, _ := e.queued()
	e.decide(id, approval, 201)
	eventually(t, "the decision's webhooks", func() bool { return len(rc.of(id)) == 3 })
	for typ, ev := range rc.of(id) {
		if err := webhook.Verify(secret, ev.sig, ev.body, ev.at); err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
	}
	// The receiver answers before the worker records the attempt.
	ctx := context.Background()
	var delivered []webhook.Delivery
	eventually(t, "three deliveries recorded as delivered", func() bool {
		ds, _, err := e.App.Integrations.Queue.List(ctx, "clinic_a", webhook.Delivered, "", 100)
		delivered = ds
		return err == nil && len(ds) == 3
	})
	for _, d := range delivered {
		if d.TotalAttempts != 1 {
			t.Fatalf("delivery %s took %d attempts, want 1", d.EventID, d.TotalAttempts)
		}
	}
	// The worker deleted every job it handled.
	eventually(t, "an empty job queue", func() bool {
		msgs, err := q.Receive(ctx, 10, time.Second)
		return err == nil && len(msgs) == 0
	})
}
