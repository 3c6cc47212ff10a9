package kmssigner_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/goodfaith/goodfaith/internal/signer/kmssigner"
	"github.com/goodfaith/goodfaith/internal/signer/kmssigner/kmstest"
)

// ReadPSOKeys (the functions' app.Needs.PSOKeys) reads the current key
// and every retired one, leaves out a retired id that is the current key,
// and names the key that KMS does not have.
func TestReadPSOKeys(t *testing.T) {
	srv := kmstest.Start(t)
	current, old1, old2 := srv.CreateKey(t), srv.CreateKey(t), srv.CreateKey(t)
	cfg := aws.Config{Region: kmstest.Region, BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDKMSTEST", "kmstest-secret", "")}
	ctx := context.Background()

	sign, retired, err := kmssigner.ReadPSOKeys(ctx, cfg, kmstest.ARN(current), []string{kmstest.ARN(old1), kmstest.ARN(current), kmstest.ARN(old2)})
	if err != nil {
		t.Fatal(err)
	}
	if !sign.Public().Equal(srv.Public(current)) {
		t.Error("the signer is not the current key's")
	}
	if len(retired) != 2 {
		t.Fatalf("retired keys %+v; want old1 and old2 (the current key left out)", retired)
	}
	for i, id := range []string{old1, old2} {
		want, err := kmssigner.PublicJWK(ctx, srv.Client(), id)
		if err != nil {
			t.Fatal(err)
		}
		if retired[i].Kid != want.Kid {
			t.Errorf("retired[%d] = %s; want %s, in the order given", i, retired[i].Kid, want.Kid)
		}
	}

	if _, _, err := kmssigner.ReadPSOKeys(ctx, cfg, kmstest.ARN(current), []string{"alias/none"}); err == nil || !strings.Contains(err.Error(), "retired key alias/none") {
		t.Errorf("an unknown retired key: %v; want an error naming it", err)
	}
	if _, _, err := kmssigner.ReadPSOKeys(ctx, cfg, "alias/none", []string{kmstest.ARN(old1)}); err == nil || !strings.Contains(err.Error(), "key alias/none") {
		t.Errorf("an unknown current key: %v; want an error naming it", err)
	}
}
