// Command webhooks is the Lambda function that consumes the webhook
// delivery jobs of the SQS queue (webhook.Worker.HandleBatch through
// internal/lambdasqs, reporting the jobs that failed) and sends the
// deliveries to the clinics' endpoints on the internet; EventBridge
// Scheduler also invokes it every minute to re-drive deliveries whose job
// was lost (webhook.Worker.Redrive through internal/lambdaschedule). It runs
// on the AWS home built from the environment that internal/app/env.go
// describes.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/goodfaith/goodfaith/internal/app"
	"github.com/goodfaith/goodfaith/internal/lambdaruntime"
	"github.com/goodfaith/goodfaith/internal/lambdaschedule"
	"github.com/goodfaith/goodfaith/internal/lambdasqs"
)

func main() {
	a, _, err := app.Build(context.Background(), os.Getenv, app.Needs{})
	if err != nil {
		lambdaruntime.Fail("webhooks", err)
	}
	w, log := a.Integrations.Worker, a.Settings.Log
	lambda.Start(lambdasqs.WithSchedule(
		lambdasqs.Handler("webhooks", lambdasqs.Webhooks(w), log),
		lambdaschedule.Handler("webhooks", lambdaschedule.WebhookRedrive(w), log)))
}
