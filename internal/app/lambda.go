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
// verifiers). The parts are function values, and each function's Needs
// come from a function of its own (PublicNeeds, …) rather than a variable,
// so that a function's binary links only the SDK clients of its parts: the
// linker keeps what is reachable from main, and flags tested at run time,
// or variables set up by package initialization, would keep every client
// in every function (size and start-up time; see `make lambda-bench`).
type Needs struct {
	// PSOKeys reads the PSO signing key from KMS at start-up
	// (kms:GetPublicKey): for the function that signs PSOs (provider) and
	// the one that publishes the JWKS (public). Nil: no KMS call, and the
	// signer refuses to sign. With PSO_SIGNING_KEY_PEM instead of a KMS key
	// the key file is used either way.
	PSOKeys psoKeyReader
	// RetiredPSOKeys: PSOKeys also reads the retired keys, for the JWKS.
	RetiredPSOKeys bool
	// Senders builds the delivery services the environment configures
	// (SES for email, SNS for SMS; notifyenv.go), for the functions that
	// send. Nil: every message stays in the outbox.
	Senders senderFactory
}

// psoKeyReader reads PSO signing keys (psosigner.go).
type psoKeyReader func(ctx context.Context, cfg aws.Config, env envConfig, retired bool) (signer.Signer, []jwk.Key, error)

// senderFactory builds the senders of a notify.Router by channel.
type senderFactory func(aws.Config, NotifyConfig) map[string]notify.Sender

// Everything is what FromEnv builds: every part, for tools and tests.
func Everything() Needs {
	return Needs{PSOKeys: kmsPSOKeys, RetiredPSOKeys: true, Senders: awsSenders}
}

// The needs of each function of functions/, which its main.go passes to
// ForFunction. functions/template_test.go holds the template's grants to
// them (kms:GetPublicKey and ses:SendEmail only where a function uses
// them).

func PatientNeeds() Needs  { return Needs{} }
func ProviderNeeds() Needs { return Needs{PSOKeys: kmsPSOKeys} }
func ClinicNeeds() Needs   { return Needs{Senders: awsSenders} } // invites
func PublicNeeds() Needs   { return Needs{PSOKeys: kmsPSOKeys, RetiredPSOKeys: true} }
func DispatchNeeds() Needs { return Needs{Senders: awsSenders} } // the dispatcher's notifications
func SweepNeeds() Needs    { return Needs{Senders: awsSenders} }
func WebhooksNeeds() Needs { return Needs{} }
func CloseNeeds() Needs    { return Needs{} }
func SignalNeeds() Needs   { return Needs{} }

// NeedsOf returns the Needs of the function in functions/<name>, which
// its main.go passes as app.<Name>Needs(); for tests (a switch, not a map,
// so that no function's binary links the others' parts).
func NeedsOf(name string) (Needs, bool) {
	switch name {
	case "patient":
		return PatientNeeds(), true
	case "provider":
		return ProviderNeeds(), true
	case "clinic":
		return ClinicNeeds(), true
	case "public":
		return PublicNeeds(), true
	case "dispatch":
		return DispatchNeeds(), true
	case "sweep":
		return SweepNeeds(), true
	case "webhooks":
		return WebhooksNeeds(), true
	case "close":
		return CloseNeeds(), true
	case "signal":
		return SignalNeeds(), true
	}
	return Needs{}, false
}

// ForFunction builds the app of one Lambda function from the environment,
// with that function's Needs: every function reads and checks the same
// variables and reports the same errors (Build), but builds and links only
// its parts.
func ForFunction(ctx context.Context, getenv func(string) string, n Needs) (*App, *AWS, error) {
	return Build(ctx, getenv, n)
}

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
