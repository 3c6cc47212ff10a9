package app

import (
	"context"
	"crypto/ecdsa"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/goodfaith/goodfaith/internal/jwk"
	"github.com/goodfaith/goodfaith/internal/notify"
	"github.com/goodfaith/goodfaith/internal/signer"
)

// Needs are the parts of the AWS home that a Lambda function builds beyond
// what every one has (the store, the blob store, the outbox, the token
// verifiers). The parts that need an SDK client of their own are function
// values from the adapter packages (kmssigner.ReadPSOKeys,
// awsnotify.Senders), which each functions/<name>/main.go names in its
// Needs literal: this package imports neither, so a function that does not
// name them neither links nor initializes the KMS, SES and SNS clients (Go
// runs the init of every imported package, whatever the linker keeps;
// package initialization is part of every cold start, `make lambda-bench`).
// functions/template_test.go holds the template's grants to the Needs of
// each main.go (kms:GetPublicKey and ses:SendEmail only where named).
type Needs struct {
	// PSOKeys reads the PSO signing key from KMS at start-up
	// (kms:GetPublicKey): for the function that signs PSOs (provider) and
	// the one that publishes the JWKS (public). Nil: no KMS call, and the
	// signer refuses to sign. With PSO_SIGNING_KEY_PEM instead of a KMS key
	// the key file is used either way.
	PSOKeys PSOKeyReader
	// RetiredPSOKeys: PSOKeys also reads the retired keys, for the JWKS.
	RetiredPSOKeys bool
	// Senders builds the delivery services the environment configures
	// (SES for email, SNS for SMS; notifyenv.go), for the functions that
	// send. Nil: every message stays in the outbox.
	Senders SenderFactory
}

// PSOKeyReader reads the PSO signing key keyID and the public halves of
// the retired keys (kmssigner.ReadPSOKeys).
type PSOKeyReader func(ctx context.Context, cfg aws.Config, keyID string, retiredKeyIDs []string) (signer.Signer, []jwk.Key, error)

// SenderFactory builds the senders of a notify.Router by channel
// (awsnotify.Senders).
type SenderFactory func(aws.Config, NotifyConfig) map[string]notify.Sender

// errNoPSOKey is what a function without Needs.PSOKeys answers when asked
// to sign: a PSO reached a function that template.yaml does not let sign.
var errNoPSOKey = errors.New("app: this function does not sign PSOs (its Needs read no PSO key)")

// noPSOKey is the signer of the functions that never sign.
type noPSOKey struct{}

var _ signer.Signer = noPSOKey{}

func (noPSOKey) KeyID() string            { return "" }
func (noPSOKey) Public() *ecdsa.PublicKey { return nil }
func (noPSOKey) Sign(context.Context, []byte) ([]byte, error) {
	return nil, errNoPSOKey
}
