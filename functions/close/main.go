// Command close is the Lambda function that EventBridge Scheduler invokes
// every hour: the monthly close (billing.MonthlyClose.Run, through
// internal/lambdaschedule), which closes each clinic's months once they are
// due, on the AWS home built from the environment that internal/app/env.go
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
	a, _, err := app.Build(context.Background(), os.Getenv, app.Needs{})
	if err != nil {
		lambdaruntime.Fail("close", err)
	}
	lambda.Start(lambdaschedule.Handler("close", lambdaschedule.MonthlyClose(a.Integrations.MonthlyClose), a.Settings.Log))
}
