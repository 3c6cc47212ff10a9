package app

import (
	"context"
	"strings"
	"testing"

	"github.com/goodfaith/goodfaith/internal/signer/kmssigner/kmstest"
)

// TestFromEnvSignsWithKMS: with PSO_KMS_KEY_ID the app signs through KMS
// (the KMS client reaching the loopback KMS endpoint through the SDK's
// AWS_ENDPOINT_URL_KMS), and the JWKS keeps the retired keys.
func TestFromEnvSignsWithKMS(t *testing.T) {
	srv := kmstest.Start(t)
	current, old := srv.CreateKey(t), srv.CreateKey(t)
	srv.Alias("alias/goodfaith-pso", current)
	env := validEnv(t)
	env["AWS_ENDPOINT_URL_KMS"], env[envAccessKeyID], env[envSecretAccessKey] = srv.URL, "AKIDKMSTEST", "kmstest-secret"
	delete(env, EnvPSOSigningKeyPEM)
	env[EnvPSOKMSKeyID] = "alias/goodfaith-pso"
	env[EnvPSOKMSRetiredKeyIDs] = " " + kmstest.ARN(old) + " ,"
	a, _, err := fromEnv(context.Background(), getenvOf(env))
	if err != nil {
		t.Fatal(err)
	}
	if !a.Ports.Signer.Public().Equal(srv.Public(current)) {
		t.Fatal("the app does not sign with the KMS key")
	}
	set := a.Deps.Keyring.JWKS()
	if len(set.Keys) != 2 || set.Keys[0].Kid != a.Ports.Signer.KeyID() {
		t.Fatalf("JWKS = %+v, want the current and the retired key", set)
	}
	digest := make([]byte, 32)
	before := srv.Signs()
	if _, err := a.Ports.Signer.Sign(context.Background(), digest); err != nil || srv.Signs() != before+1 {
		t.Fatalf("Sign through KMS: %v", err)
	}

	// Neither key given: both names are reported missing.
	delete(env, EnvPSOKMSKeyID)
	if _, _, err := fromEnv(context.Background(), getenvOf(env)); err == nil || !strings.Contains(err.Error(), EnvPSOKMSKeyID+" (or "+EnvPSOSigningKeyPEM+")") {
		t.Fatalf("without a signing key: %v", err)
	}
	// A key KMS does not have is a start-up error naming the variable.
	env[EnvPSOKMSKeyID] = "alias/none"
	if _, _, err := fromEnv(context.Background(), getenvOf(env)); err == nil || !strings.Contains(err.Error(), EnvPSOKMSKeyID) {
		t.Fatalf("unknown KMS key: %v", err)
	}
}
