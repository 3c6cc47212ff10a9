package app

import (
	"context"
	"strings"
	"testing"
)

func TestSignalConnectionsFromEnv(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDSIGNALTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "signal-test-secret")
	env := map[string]string{EnvSignalEndpoint: "https://abc123.execute-api.us-east-1.amazonaws.com/prod/", EnvRegion: "us-east-1"}
	c, err := SignalConnectionsFromEnv(context.Background(), getenvOf(env))
	if err != nil {
		t.Fatal(err)
	}
	if c.Endpoint != "https://abc123.execute-api.us-east-1.amazonaws.com/prod" || c.Region != "us-east-1" {
		t.Errorf("client %s %s", c.Endpoint, c.Region)
	}
	for _, tc := range []struct {
		endpoint, region, want string
	}{
		{"", "us-east-1", EnvSignalEndpoint},
		{"http://abc123.execute-api.us-east-1.amazonaws.com/prod", "us-east-1", EnvSignalEndpoint},
		{"https://abc123.execute-api.us-east-1.amazonaws.com/prod", "", EnvRegion},
	} {
		_, err := SignalConnectionsFromEnv(context.Background(), getenvOf(map[string]string{EnvSignalEndpoint: tc.endpoint, EnvRegion: tc.region}))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("endpoint %q region %q: %v; want an error naming %s", tc.endpoint, tc.region, err, tc.want)
		}
	}
}
