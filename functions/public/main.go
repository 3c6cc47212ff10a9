// Command public is the Lambda function of the public routes
// (httpapi.Public: GET /.well-known/jwks.json, POST /v1/psos/verify) behind
// the HTTP API, on the AWS home built from the environment that
// internal/app/env.go describes.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/goodfaith/goodfaith/internal/app"
	"github.com/goodfaith/goodfaith/internal/httpapi"
	"github.com/goodfaith/goodfaith/internal/lambdahttp"
	"github.com/goodfaith/goodfaith/internal/lambdaruntime"
	"github.com/goodfaith/goodfaith/internal/signer/kmssigner"
)

func main() {
	a, _, err := app.Build(context.Background(), os.Getenv, app.Needs{PSOKeys: kmssigner.ReadPSOKeys, RetiredPSOKeys: true})
	if err != nil {
		lambdaruntime.Fail("public", err)
	}
	lambda.Start(lambdahttp.Handler(a.Serve(httpapi.PublicRoutes)))
}
