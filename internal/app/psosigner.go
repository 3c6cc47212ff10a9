package app

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/goodfaith/goodfaith/internal/jwk"
	"github.com/goodfaith/goodfaith/internal/signer"
)

// psoSigner returns the AWS home's PSO signer and the retired keys its
// JWKS keeps: the KMS key when PSO_KMS_KEY_ID is set and the function
// reads it (Needs.PSOKeys), else the interim key of PSO_SIGNING_KEY_PEM.
// A function that reads no PSO key gets a signer that refuses to sign.
func psoSigner(ctx context.Context, cfg aws.Config, env envConfig, n Needs) (signer.Signer, []jwk.Key, error) {
	switch {
	case env.kmsKeyID == "":
		return env.signingKey, nil, nil
	case n.PSOKeys == nil:
		return noPSOKey{}, nil, nil
	}
	var retired []string
	if n.RetiredPSOKeys {
		retired = env.kmsRetiredKeyIDs
	}
	sign, old, err := n.PSOKeys(ctx, cfg, env.kmsKeyID, retired)
	if err != nil {
		return nil, nil, fmt.Errorf("app: %s / %s: %w", EnvPSOKMSKeyID, EnvPSOKMSRetiredKeyIDs, err)
	}
	return sign, old, nil
}
