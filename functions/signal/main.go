// Command signal is the Lambda function behind the signaling WebSocket API
// ($connect, $disconnect, $default): video-consult signaling
// (internal/signal through internal/lambdaws), posting to connections
// through the API Gateway Management API at SIGNAL_MANAGEMENT_ENDPOINT
// (app.SignalConnectionsFromEnv), on the AWS home built from the
// environment that internal/app/env.go describes.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/goodfaith/goodfaith/internal/app"
	"github.com/goodfaith/goodfaith/internal/lambdaruntime"
	"github.com/goodfaith/goodfaith/internal/lambdaws"
)

func main() {
	ctx := context.Background()
	a, _, err := app.FromEnv(ctx, os.Getenv)
	if err != nil {
		lambdaruntime.Fail("signal", err)
	}
	conns, err := app.SignalConnectionsFromEnv(ctx, os.Getenv)
	if err != nil {
		lambdaruntime.Fail("signal", err)
	}
	lambda.Start(lambdaws.Handler(a.SignalHandler(conns), a.Settings.Log))
}
