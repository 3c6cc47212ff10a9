package kmssigner

import (
	"context"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/goodfaith/goodfaith/internal/jwk"
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
	old := make([]jwk.Key, len(retiredKeyIDs))
	errs := make([]error, len(retiredKeyIDs))
	var wg sync.WaitGroup
	for i, id := range retiredKeyIDs {
		wg.Go(func() {
			if old[i], errs[i] = PublicJWK(ctx, client, id); errs[i] != nil {
				errs[i] = fmt.Errorf("retired key %s: %w", id, errs[i])
			}
		})
	}
	current, err := New(ctx, client, keyID)
	wg.Wait()
	if err != nil {
		return nil, nil, fmt.Errorf("key %s: %w", keyID, err)
	}
	var retired []jwk.Key
	for i := range old {
		if errs[i] != nil {
			return nil, nil, errs[i]
		}
		if old[i].Kid != current.KeyID() {
			retired = append(retired, old[i])
		}
	}
	return current, retired, nil
}
