// Command signal is the Lambda function behind the signaling WebSocket API
// ($connect, $disconnect, $default): video-consult signaling
// (internal/signal through internal/lambdaws), posting to connections
// through the API Gateway Management API at SIGNAL_MANAGEMENT_ENDPOINT
// (app.AWS.SignalConnections), on the AWS home that app.Build
// builds from the environment internal/app/env.go describes.
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
	a, home, err := app.Build(ctx, os.Getenv, app.Needs{})
	if err != nil {
		lambdaruntime.Fail("signal", err)
	}
	conns, err := home.SignalConnections(os.Getenv)
	if err != nil {
		lambdaruntime.Fail("signal", err)
	}
	lambda.Start(lambdaws.Handler(a.SignalHandler(conns), a.Settings.Log))
}
