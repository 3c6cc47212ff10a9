// Command clinic is the Lambda function of the clinic routes
// (httpapi.Clinic: /v1/clinic/…) behind the HTTP API, on the AWS home built
// from the environment that internal/app/env.go describes.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/goodfaith/goodfaith/internal/app"
	"github.com/goodfaith/goodfaith/internal/httpapi"
	"github.com/goodfaith/goodfaith/internal/lambdahttp"
	"github.com/goodfaith/goodfaith/internal/lambdaruntime"
	"github.com/goodfaith/goodfaith/internal/notify/awsnotify"
)

func main() {
	a, _, err := app.Build(context.Background(), os.Getenv, app.Needs{Senders: awsnotify.Senders})
	if err != nil {
		lambdaruntime.Fail("clinic", err)
	}
	lambda.Start(lambdahttp.Handler(a.Serve(httpapi.ClinicRoutes)))
}
