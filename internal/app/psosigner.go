package app

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/goodfaith/goodfaith/internal/jwk"
	"github.com/goodfaith/goodfaith/internal/signer"
	"github.com/goodfaith/goodfaith/internal/signer/kmssigner"
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
	return n.PSOKeys(ctx, cfg, env, n.RetiredPSOKeys)
}

// kmsPSOKeys reads the KMS signing key's public half (GetPublicKey) and,
// when retired is set, the retired keys'.
func kmsPSOKeys(ctx context.Context, cfg aws.Config, env envConfig, retired bool) (signer.Signer, []jwk.Key, error) {
	client := kms.NewFromConfig(cfg)
	current, err := kmssigner.New(ctx, client, env.kmsKeyID)
	if err != nil {
		return nil, nil, fmt.Errorf("app: %s: %w", EnvPSOKMSKeyID, err)
	}
	if !retired {
		return current, nil, nil
	}
	var old []jwk.Key
	for _, id := range env.kmsRetiredKeyIDs {
		k, err := kmssigner.PublicJWK(ctx, client, id)
		if err != nil {
			return nil, nil, fmt.Errorf("app: %s: %w", EnvPSOKMSRetiredKeyIDs, err)
		}
		if k.Kid != current.KeyID() {
			old = append(old, k)
		}
	}
	return current, old, nil
}
