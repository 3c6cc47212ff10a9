// Command provider is the Lambda function of the provider console routes
// (httpapi.Provider: /v1/provider/…) behind the HTTP API, on the AWS home
// built from the environment that internal/app/env.go describes.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/goodfaith/goodfaith/internal/app"
	"github.com/goodfaith/goodfaith/internal/httpapi"
	"github.com/goodfaith/goodfaith/internal/lambdahttp"
)

func main() {
	a, _, err := app.FromEnv(context.Background(), os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "provider:", err)
		os.Exit(1)
	}
	lambda.Start(lambdahttp.Handler(a.Handler(httpapi.Provider)))
}
