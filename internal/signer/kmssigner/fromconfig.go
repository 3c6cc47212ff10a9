package kmssigner

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/goodfaith/goodfaith/internal/jwk"
	"github.com/goodfaith/goodfaith/internal/signer"
)

// ReadPSOKeys builds a KMS client on cfg and reads the PSO signing key
// keyID (its signer) and the public halves of retiredKeyIDs (for the
// JWKS; one equal to the current key is left out). It lives here, not in
// internal/app, so that only the Lambda functions that read PSO keys link
// (and initialize) the KMS client: app.Needs.PSOKeys.
func ReadPSOKeys(ctx context.Context, cfg aws.Config, keyID string, retiredKeyIDs []string) (signer.Signer, []jwk.Key, error) {
	client := kms.NewFromConfig(cfg)
	current, err := New(ctx, client, keyID)
	if err != nil {
		return nil, nil, fmt.Errorf("key %s: %w", keyID, err)
	}
	var retired []jwk.Key
	for _, id := range retiredKeyIDs {
		k, err := PublicJWK(ctx, client, id)
		if err != nil {
			return nil, nil, fmt.Errorf("retired key %s: %w", id, err)
		}
		if k.Kid != current.KeyID() {
			retired = append(retired, k)
		}
	}
	return current, retired, nil
}
