// Command patient is the Lambda function of the widget and patient routes
// (httpapi.Patient: GET /v1/widget/config, /v1/exams…, GET /v1/ice-servers)
// and of the widget itself (/widget/…: app.PatientHandler) behind the HTTP
// API, on the AWS home built from the environment that internal/app/env.go
// describes.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/goodfaith/goodfaith/internal/app"
	"github.com/goodfaith/goodfaith/internal/lambdahttp"
	"github.com/goodfaith/goodfaith/internal/lambdaruntime"
)

func main() {
	a, home, err := app.Build(context.Background(), os.Getenv, app.Needs{})
	if err != nil {
		lambdaruntime.Fail("patient", err)
	}
	lambda.Start(lambdahttp.Handler(a.PatientHandler(home.BlobOrigin)))
}
