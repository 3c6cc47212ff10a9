package app

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func TestSignalConnections(t *testing.T) {
	home := &AWS{Config: sdkConfig(AWSConfig{Region: "us-east-1", AccessKey: "AKIDSIGNALTEST", SecretKey: "signal-test-secret"}, getenvOf(nil))}
	env := map[string]string{EnvSignalEndpoint: "https://abc123.execute-api.us-east-1.amazonaws.com/prod/", EnvRegion: "us-east-1"}
	c, err := home.SignalConnections(getenvOf(env))
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
		_, err := home.SignalConnections(getenvOf(map[string]string{EnvSignalEndpoint: tc.endpoint, EnvRegion: tc.region}))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("endpoint %q region %q: %v; want an error naming %s", tc.endpoint, tc.region, err, tc.want)
		}
	}
	noRegion := &AWS{Config: aws.Config{}}
	if _, err := noRegion.SignalConnections(getenvOf(env)); err == nil || !strings.Contains(err.Error(), EnvRegion) {
		t.Errorf("a home without a region: %v; want an error naming %s", err, EnvRegion)
	}
}
