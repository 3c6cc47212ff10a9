// Command dispatch is the Lambda function subscribed to the table's
// DynamoDB stream: it runs the change-feed consumers of the app
// (app.Consumers) on the stream's records, in order, reporting partial batch
// failures. CONSUMER (comma-separated names) narrows it to some consumers;
// empty runs them all. The rest of its environment is app.Build's.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/goodfaith/goodfaith/internal/app"
	"github.com/goodfaith/goodfaith/internal/lambdaruntime"
	"github.com/goodfaith/goodfaith/internal/lambdastream"
	"github.com/goodfaith/goodfaith/internal/notify/awsnotify"
)

func main() {
	a, _, err := app.Build(context.Background(), os.Getenv, app.Needs{Senders: awsnotify.Senders})
	if err != nil {
		lambdaruntime.Fail("dispatch", err)
	}
	consumers, err := a.SelectConsumers(os.Getenv)
	if err != nil {
		lambdaruntime.Fail("dispatch", err)
	}
	handlers := make([]lambdastream.Func, 0, len(consumers))
	for _, c := range consumers {
		handlers = append(handlers, lambdastream.Handler(c.Handle, lambdastream.WithName(c.Name), lambdastream.WithLogger(a.Settings.Log)))
	}
	lambda.Start(lambdastream.Sequence(handlers...))
}
