package app

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/goodfaith/goodfaith/internal/notify"
	"github.com/goodfaith/goodfaith/internal/notify/awsnotify"
	"github.com/goodfaith/goodfaith/internal/signer/kmssigner"
	"github.com/goodfaith/goodfaith/internal/signer/kmssigner/kmstest"
)

// TestBuildCallsKMSOnlyWhereNeeded: with a PSO_KMS_KEY_ID that KMS
// does not have, the functions that read the key at start-up (provider,
// public) fail naming the variable, and every other function starts —
// so it made no KMS call — with a signer that refuses to sign.
func TestBuildCallsKMSOnlyWhereNeeded(t *testing.T) {
	srv := kmstest.Start(t)
	good, retired := srv.CreateKey(t), srv.CreateKey(t)
	env := validEnv(t)
	env["AWS_ENDPOINT_URL_KMS"], env[envAccessKeyID], env[envSecretAccessKey] = srv.URL, "AKIDKMSTEST", "kmstest-secret"
	delete(env, EnvPSOSigningKeyPEM)
	env[EnvPSOKMSKeyID] = "alias/none"
	env[EnvPSOKMSRetiredKeyIDs] = kmstest.ARN(retired)
	for name, n := range functionNeeds {
		a, _, err := Build(context.Background(), getenvOf(env), n)
		if n.PSOKeys != nil {
			if err == nil || !strings.Contains(err.Error(), EnvPSOKMSKeyID) {
				t.Errorf("%s started with a KMS key that does not exist (%v); it must read the key at start-up", name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v; it needs no PSO key, so it must not call KMS", name, err)
			continue
		}
		if _, err := a.Ports.Signer.Sign(context.Background(), make([]byte, 32)); !errors.Is(err, errNoPSOKey) {
			t.Errorf("%s signed (%v); it has no PSO key", name, err)
		}
	}

	// With a key KMS has: the provider signs with it and reads no retired
	// key; public's JWKS has both.
	env[EnvPSOKMSKeyID] = kmstest.ARN(good)
	prov, _, err := Build(context.Background(), getenvOf(env), functionNeeds["provider"])
	if err != nil {
		t.Fatal(err)
	}
	if !prov.Ports.Signer.Public().Equal(srv.Public(good)) || len(prov.Settings.RetiredJWKSKeys) != 0 {
		t.Errorf("provider: signer %v, retired keys %v; want the KMS key and none", prov.Ports.Signer.KeyID(), prov.Settings.RetiredJWKSKeys)
	}
	before := srv.Signs()
	if _, err := prov.Ports.Signer.Sign(context.Background(), make([]byte, 32)); err != nil || srv.Signs() != before+1 {
		t.Errorf("provider does not sign through KMS: %v", err)
	}
	pub, _, err := Build(context.Background(), getenvOf(env), functionNeeds["public"])
	if err != nil {
		t.Fatal(err)
	}
	if set := pub.Deps.Keyring.JWKS(); len(set.Keys) != 2 {
		t.Errorf("public JWKS %+v; want the signing key and the retired one", set)
	}
}

// functionNeeds are the kinds of Needs the functions' main.go pass to
// Build (functions/functions_test.go holds each main.go to its own),
// by the functions that pass them.
var functionNeeds = map[string]Needs{
	"patient, webhooks, close, signal, sweep": {},
	"provider":         {PSOKeys: kmssigner.ReadPSOKeys},
	"public":           {PSOKeys: kmssigner.ReadPSOKeys, RetiredPSOKeys: true},
	"clinic, dispatch": {Senders: awsnotify.Senders},
}

// everything is every part, for the tests of what Build reads and wires.
var everything = Needs{PSOKeys: kmssigner.ReadPSOKeys, RetiredPSOKeys: true, Senders: awsnotify.Senders}

// fromEnv builds the app with every part.
func fromEnv(ctx context.Context, getenv func(string) string) (*App, *AWS, error) {
	return Build(ctx, getenv, everything)
}

// TestBuildSendsOnlyWhereNeeded: with SES and SNS configured, the
// functions with Senders route email and SMS to them; the others keep
// every message in the outbox (and link neither client).
func TestBuildSendsOnlyWhereNeeded(t *testing.T) {
	env := validEnv(t)
	env[EnvNotifyEmailFrom] = "Goodfaith <no-reply@goodfaith.example>"
	env[EnvNotifySMSEnabled] = "true"
	for name, n := range functionNeeds {
		a, _, err := Build(context.Background(), getenvOf(env), n)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		r, routes := a.Ports.Notifier.(notify.Router)
		_, outbox := a.Ports.Notifier.(notify.Outbox)
		switch {
		case n.Senders != nil && (!routes || r.Senders["email"] == nil || r.Senders["sms"] == nil):
			t.Errorf("%s: notifier %T; want a Router to SES and SNS", name, a.Ports.Notifier)
		case n.Senders == nil && !outbox:
			t.Errorf("%s: notifier %T; want the outbox", name, a.Ports.Notifier)
		}
	}
}

// The signal function posts to connections with the home's own
// configuration (the endpoint's errors: signalenv_test.go).
func TestAWSSignalConnections(t *testing.T) {
	env := validEnv(t)
	_, home, err := Build(context.Background(), getenvOf(env), Needs{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := home.SignalConnections(getenvOf(env)); err == nil || !strings.Contains(err.Error(), EnvSignalEndpoint) {
		t.Errorf("without %s: %v", EnvSignalEndpoint, err)
	}
	env[EnvSignalEndpoint] = "https://abc.execute-api.us-east-1.amazonaws.com/prod"
	if c, err := home.SignalConnections(getenvOf(env)); err != nil || c == nil {
		t.Errorf("with %s: %v", EnvSignalEndpoint, err)
	}
}
