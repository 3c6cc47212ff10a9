package lambdaws

import (
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/goodfaith/goodfaith/internal/signal"
)

// Func is the Lambda handler signature.
type Func = func(context.Context, events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error)

// Handler adapts h. Refused connects answer 401 (API Gateway then refuses
// the upgrade); an unknown route answers 400; store failures answer 500 so
// that API Gateway reports them, never with details.
func Handler(h *signal.Handler, log *slog.Logger) Func {
	return func(ctx context.Context, e events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
		id := e.RequestContext.ConnectionID
		if id == "" {
			return status(http.StatusBadRequest), nil
		}
		switch e.RequestContext.RouteKey {
		case "$connect":
			_, err := h.Connect(ctx, id, e.QueryStringParameters["token"])
			switch {
			case errors.Is(err, signal.ErrUnauthorized):
				return status(http.StatusUnauthorized), nil
			case err != nil:
				log.ErrorContext(ctx, "signal connect failed", "error", err.Error())
				return status(http.StatusInternalServerError), nil
			}
			return status(http.StatusOK), nil
		case "$disconnect":
			if err := h.Disconnect(ctx, id); err != nil {
				log.ErrorContext(ctx, "signal disconnect failed", "error", err.Error())
				return status(http.StatusInternalServerError), nil
			}
			return status(http.StatusOK), nil
		case "$default":
			body := []byte(e.Body)
			if e.IsBase64Encoded {
				b, err := base64.StdEncoding.DecodeString(e.Body)
				if err != nil {
					return status(http.StatusBadRequest), nil
				}
				body = b
			}
			err := h.Message(ctx, id, body)
			switch {
			case errors.Is(err, signal.ErrUnknownConnection):
				return status(http.StatusGone), nil
			case err != nil:
				return status(http.StatusInternalServerError), nil
			}
			return status(http.StatusOK), nil
		default:
			return status(http.StatusBadRequest), nil
		}
	}
}

func status(code int) events.APIGatewayProxyResponse {
	return events.APIGatewayProxyResponse{StatusCode: code}
}
