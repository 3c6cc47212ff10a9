package app

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/goodfaith/goodfaith/internal/jwk"
	"github.com/goodfaith/goodfaith/internal/signer"
	"github.com/goodfaith/goodfaith/internal/signer/kmssigner"
)

// psoSigner returns the AWS home's PSO signer and the retired keys its
// JWKS keeps: the KMS key when PSO_KMS_KEY_ID is set, else the interim key
// of PSO_SIGNING_KEY_PEM.
func psoSigner(ctx context.Context, env envConfig) (signer.Signer, []jwk.Key, error) {
	if env.kmsKeyID == "" {
		return env.signingKey, nil, nil
	}
	opts := []func(*config.LoadOptions) error{}
	if env.aws.Region != "" {
		opts = append(opts, config.WithRegion(env.aws.Region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, nil, err
	}
	client := kms.NewFromConfig(cfg)
	current, err := kmssigner.New(ctx, client, env.kmsKeyID)
	if err != nil {
		return nil, nil, fmt.Errorf("app: %s: %w", EnvPSOKMSKeyID, err)
	}
	var retired []jwk.Key
	for _, id := range env.kmsRetiredKeyIDs {
		k, err := kmssigner.PublicJWK(ctx, client, id)
		if err != nil {
			return nil, nil, fmt.Errorf("app: %s: %w", EnvPSOKMSRetiredKeyIDs, err)
		}
		if k.Kid != current.KeyID() {
			retired = append(retired, k)
		}
	}
	return current, retired, nil
}
