package kmssigner

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/goodfaith/goodfaith/internal/jwk"
	"github.com/goodfaith/goodfaith/internal/parallel"
	"github.com/goodfaith/goodfaith/internal/signer"
)

// ReadPSOKeys builds a KMS client on cfg and reads the PSO signing key
// keyID (its signer) and the public halves of retiredKeyIDs (for the
// JWKS; one equal to the current key is left out). It lives here, not in
// internal/app, so that only the Lambda functions that read PSO keys link
// (and initialize) the KMS client: app.Needs.PSOKeys. The keys are read
// concurrently: each is a GetPublicKey round trip inside a cold start.
func ReadPSOKeys(ctx context.Context, cfg aws.Config, keyID string, retiredKeyIDs []string) (signer.Signer, []jwk.Key, error) {
	client := kms.NewFromConfig(cfg)
	var current *Signer
	old := make([]jwk.Key, len(retiredKeyIDs))
	err := parallel.Each(ctx, len(retiredKeyIDs)+1, len(retiredKeyIDs)+1, func(ctx context.Context, i int) (err error) {
		if i == 0 {
			if current, err = New(ctx, client, keyID); err != nil {
				return fmt.Errorf("key %s: %w", keyID, err)
			}
			return nil
		}
		id := retiredKeyIDs[i-1]
		if old[i-1], err = PublicJWK(ctx, client, id); err != nil {
			return fmt.Errorf("retired key %s: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	var retired []jwk.Key
	for _, k := range old {
		if k.Kid != current.KeyID() {
			retired = append(retired, k)
		}
	}
	return current, retired, nil
}
