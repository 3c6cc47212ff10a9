// Command sweep is the Lambda function that EventBridge Scheduler invokes
// every minute: the claim-lease and SLA sweep (exam.Service.Sweep) and the
// signaling connections sweep (app.App.SweepConnections), through
// internal/lambdaschedule, on the AWS home built from the environment that
// internal/app/env.go describes.
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
	a, _, err := app.Build(context.Background(), os.Getenv, app.Needs{})
	if err != nil {
		lambdaruntime.Fail("sweep", err)
	}
	job := lambdaschedule.Jobs(lambdaschedule.Sweep(a.Exams), lambdaschedule.Connections(a.SweepConnections))
	lambda.Start(lambdaschedule.Handler("sweep", job, a.Settings.Log))
}
