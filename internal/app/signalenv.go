package app

import (
	"fmt"

	"github.com/goodfaith/goodfaith/internal/connections/apigw"
)

// EnvSignalEndpoint is the management endpoint of the signaling WebSocket
// API, https://{api-id}.execute-api.{region}.amazonaws.com/{stage}, where
// the signal function posts to connections (…/@connections/{id}). Only the
// signal function reads it (SignalConnections); template.yaml sets it
// there. In tests it may be http to a loopback host.
const EnvSignalEndpoint = "SIGNAL_MANAGEMENT_ENDPOINT"

// SignalConnections returns the API Gateway Management API client of the
// signal function: the endpoint of EnvSignalEndpoint, with the home's own
// SDK configuration (its region and the function role's credentials). It
// makes no network call. Errors name the variable, never a value of a
// secret.
func (h *AWS) SignalConnections(getenv func(string) string) (*apigw.Client, error) {
	endpoint, err := signalEndpoint(getenv)
	if err != nil {
		return nil, err
	}
	if h.Config.Region == "" {
		return nil, fmt.Errorf("app: missing environment variable(s) %s", EnvRegion)
	}
	return apigw.New(endpoint, h.Config.Region, h.Config.Credentials)
}

// signalEndpoint checks EnvSignalEndpoint and AWS_REGION.
func signalEndpoint(getenv func(string) string) (string, error) {
	endpoint, region := getenv(EnvSignalEndpoint), getenv(EnvRegion)
	switch {
	case endpoint == "":
		return "", fmt.Errorf("app: missing environment variable(s) %s", EnvSignalEndpoint)
	case checkURL(endpoint) != nil:
		return "", fmt.Errorf("app: %s %v", EnvSignalEndpoint, checkURL(endpoint))
	case region == "":
		return "", fmt.Errorf("app: missing environment variable(s) %s", EnvRegion)
	}
	return endpoint, nil
}
