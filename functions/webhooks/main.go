// Command webhooks is the Lambda function that EventBridge Scheduler invokes
// every minute: it sends the webhook deliveries that are due
// (webhook.Worker.RunOnce until nothing more is due, through
// internal/lambdaschedule) to the clinics' endpoints on the internet, on
// the AWS home built from the environment that internal/app/env.go
// describes.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/goodfaith/goodfaith/internal/app"
	"github.com/goodfaith/goodfaith/internal/lambdaruntime"
	"github.com/goodfaith/goodfaith/internal/lambdaschedule"
)

func main() {
	a, _, err := app.FromEnv(context.Background(), os.Getenv)
	if err != nil {
		lambdaruntime.Fail("webhooks", err)
	}
	lambda.Start(lambdaschedule.Handler("webhooks", lambdaschedule.Webhooks(a.Integrations.Worker), a.Settings.Log))
}
