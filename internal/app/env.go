package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/goodfaith/goodfaith/internal/auth"
	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/signer"
)

// The environment of the Lambda functions, read by Build. template.yaml
// sets every one of them except the test overrides and AWS_REGION.
const (
	// EnvTableName is the DynamoDB table of the store (required).
	EnvTableName = "TABLE_NAME"
	// EnvBucketName is the S3 bucket of PSOs and uploads, with Object Lock
	// (required).
	EnvBucketName = "BUCKET_NAME"
	// EnvSSEKMSKeyID is the KMS key (id or ARN) every object is encrypted
	// under with SSE-KMS (optional; empty: the bucket's default encryption).
	EnvSSEKMSKeyID = "SSE_KMS_KEY_ID"
	// EnvPatientTokenSecret is the HMAC key of patient tokens, at least
	// auth.MinPatientSecretLen bytes, used as is (required). In AWS it comes
	// from a Secrets Manager dynamic reference.
	EnvPatientTokenSecret = "PATIENT_TOKEN_SECRET"
	// EnvPSOSigningKeyPEM is the PSO signing key: one PEM block "PRIVATE
	// KEY" holding a PKCS#8 ECDSA P-256 key (required). Literal "\n"
	// sequences are read as line breaks, for values pasted on one line. It
	// is interim: a KMS signer replaces it.
	EnvPSOSigningKeyPEM = "PSO_SIGNING_KEY_PEM"
	// EnvPSOKMSKeyID is the KMS key that signs PSOs (id, ARN or alias;
	// key spec ECC_NIST_P256, usage SIGN_VERIFY). One of it and
	// EnvPSOSigningKeyPEM is required; when both are set, KMS signs.
	EnvPSOKMSKeyID = "PSO_KMS_KEY_ID"
	// EnvPSOKMSRetiredKeyIDs lists, comma-separated, the KMS keys that
	// signed PSOs before a rotation: their public keys stay in the JWKS so
	// old orders keep verifying (optional).
	EnvPSOKMSRetiredKeyIDs = "PSO_KMS_RETIRED_KEY_IDS"
	// EnvProviderIssuer is the iss providers' tokens must carry, e.g. the
	// Cognito user pool's issuer URL (required).
	EnvProviderIssuer = "PROVIDER_ISSUER"
	// EnvProviderAudience is the app client id providers' tokens must be
	// for (required).
	EnvProviderAudience = "PROVIDER_AUDIENCE"
	// EnvProviderJWKSURL is where the identity provider publishes its keys,
	// https (required).
	EnvProviderJWKSURL = "PROVIDER_JWKS_URL"
	// EnvPublicOrigin is this service's own origin, where the widget frame
	// is served, e.g. https://app.example.com (required). It is also the
	// issuer of patient tokens.
	EnvPublicOrigin = "PUBLIC_ORIGIN"
	// EnvVerifyBaseURL prefixes a PSO id into its verification link, e.g.
	// https://app.example.com/v1/psos/ (required).
	EnvVerifyBaseURL = "VERIFY_BASE_URL"
	// EnvRetentionYears is how long PSO documents are kept under Object Lock
	// retention, 1 to 100 (optional; default 10).
	EnvRetentionYears = "RETENTION_YEARS"
	// EnvRegion is the AWS region; the Lambda runtime sets it.
	EnvRegion = "AWS_REGION"

	// EnvDynamoDBEndpoint and EnvS3Endpoint point the clients at other
	// servers (DynamoDB Local, MinIO) in tests; never set in AWS.
	EnvDynamoDBEndpoint = "DYNAMODB_ENDPOINT"
	EnvS3Endpoint       = "S3_ENDPOINT"

	// EnvConsumer selects change-feed consumers by name for the dispatch
	// function (see SelectConsumers).
	EnvConsumer = "CONSUMER"
)

// The credentials of the function's role, which the Lambda runtime sets
// (sdkconfig.go), or of the test servers.
const (
	envAccessKeyID     = "AWS_ACCESS_KEY_ID"
	envSecretAccessKey = "AWS_SECRET_ACCESS_KEY"
	envSessionToken    = "AWS_SESSION_TOKEN"
)

// MaxRetentionYears is the longest retention S3 Object Lock allows.
const MaxRetentionYears = 100

// envNames lists every variable Build reads, in the order it reports
// them.
var envNames = []string{
	EnvTableName, EnvBucketName, EnvSSEKMSKeyID, EnvPatientTokenSecret, EnvPSOSigningKeyPEM, EnvPSOKMSKeyID, EnvPSOKMSRetiredKeyIDs,
	EnvProviderIssuer, EnvProviderAudience, EnvProviderJWKSURL, EnvPublicOrigin, EnvVerifyBaseURL,
	EnvRetentionYears, EnvRegion, EnvDynamoDBEndpoint, EnvS3Endpoint, EnvWebhookQueueURL,
}

// requiredEnv are the variables that must be set.
var requiredEnv = []string{
	EnvTableName, EnvBucketName, EnvPatientTokenSecret,
	EnvProviderIssuer, EnvProviderAudience, EnvProviderJWKSURL, EnvPublicOrigin, EnvVerifyBaseURL,
	EnvWebhookQueueURL,
}

// Build builds the AWS home and the app on it from the environment, with
// the parts n asks for: each functions/<name>/main.go passes its own Needs,
// so every function reads and checks the same variables and reports the
// same errors but builds and links only its parts. It reads every variable before it judges any, and
// reports every missing or invalid one in a single error that names them,
// never quoting a secret. It builds the SDK's configuration once, for every
// client, from the environment (sdkconfig.go). With a KMS signing key and n.PSOKeys it reads the key's public
// half (GetPublicKey; the endpoint may be overridden by the SDK's own
// AWS_ENDPOINT_URL_KMS), and with n.RetiredPSOKeys the retired keys';
// otherwise it makes no network calls: the provider keys are fetched on
// first use. Without n.Senders every message stays in the outbox.
//
// The app is wired as the local server wires its own (infra/local): the
// same Settings, with the public origin as the patient tokens' issuer and
// providers verified against the identity provider's JWKS.
func Build(ctx context.Context, getenv func(string) string, n Needs) (*App, *AWS, error) {
	env, err := readEnv(getenv)
	if err != nil {
		return nil, nil, err
	}
	if env.aws.Notify, err = notifyFromEnv(getenv); err != nil { // notifyenv.go
		return nil, nil, err
	}
	iceServers, err := iceFromEnv(getenv) // iceenv.go
	if err != nil {
		return nil, nil, err
	}
	clk := clock.System{}
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	keys, err := auth.NewRemoteJWKS(env.jwksURL, auth.RemoteJWKSOptions{Clock: clk})
	if err != nil {
		return nil, nil, fmt.Errorf("app: %s: %w", EnvProviderJWKSURL, err)
	}
	cfg := sdkConfig(env.aws, getenv)                 // sdkconfig.go
	sign, retired, err := psoSigner(ctx, cfg, env, n) // psosigner.go
	if err != nil {
		return nil, nil, err
	}
	home, err := openAWS(cfg, env.aws, sign, n.Senders, clk, log)
	if err != nil {
		return nil, nil, err
	}
	a, err := New(home.Ports, Settings{
		Clock:         clk,
		Log:           log,
		PatientSecret: env.patientSecret,
		TokenIssuer:   env.publicOrigin,
		Providers: &auth.ProviderVerifier{
			Issuer: env.providerIssuer, Audience: env.providerAudience, Keys: keys, Clock: clk,
		},
		PublicOrigin:    env.publicOrigin,
		VerifyBaseURL:   env.verifyBaseURL,
		RetentionYears:  env.retentionYears,
		RetiredJWKSKeys: retired,
		ICE:             iceServers,
	})
	if err != nil {
		return nil, nil, err
	}
	a.Deps.ClinicAdmins = clinicAdminsFromEnv(getenv, env.providerIssuer, keys, clk) // clinicadmins.go
	a.Deps.Directors = directorsFromEnv(getenv, env.providerIssuer, keys, clk)       // directorsenv.go
	return a, home, nil
}

// envConfig is the environment, checked.
type envConfig struct {
	aws              AWSConfig
	patientSecret    []byte
	signingKey       *signer.FileKey
	kmsKeyID         string
	kmsRetiredKeyIDs []string
	providerIssuer   string
	providerAudience string
	jwksURL          string
	publicOrigin     string
	verifyBaseURL    string
	retentionYears   int
}

func readEnv(getenv func(string) string) (envConfig, error) {
	raw := make(map[string]string, len(envNames))
	for _, name := range envNames {
		v := getenv(name)
		if name != EnvPatientTokenSecret {
			v = strings.TrimSpace(v)
		}
		raw[name] = v
	}

	var missing []string
	for _, name := range requiredEnv {
		if raw[name] == "" {
			missing = append(missing, name)
		}
	}
	if raw[EnvPSOKMSKeyID] == "" && raw[EnvPSOSigningKeyPEM] == "" {
		missing = append(missing, EnvPSOKMSKeyID+" (or "+EnvPSOSigningKeyPEM+")")
	}
	var problems []error
	if len(missing) > 0 {
		problems = append(problems, fmt.Errorf("app: missing environment variable(s) %s", strings.Join(missing, ", ")))
	}
	bad := func(name, format string, args ...any) {
		problems = append(problems, fmt.Errorf("app: %s %s", name, fmt.Sprintf(format, args...)))
	}

	c := envConfig{
		aws: AWSConfig{
			Region:           raw[EnvRegion],
			Table:            raw[EnvTableName],
			Bucket:           raw[EnvBucketName],
			SSEKMSKey:        raw[EnvSSEKMSKeyID],
			DynamoDBEndpoint: raw[EnvDynamoDBEndpoint],
			S3Endpoint:       raw[EnvS3Endpoint],
			WebhookQueueURL:  raw[EnvWebhookQueueURL],
		},
		providerIssuer:   raw[EnvProviderIssuer],
		providerAudience: raw[EnvProviderAudience],
		jwksURL:          raw[EnvProviderJWKSURL],
		verifyBaseURL:    raw[EnvVerifyBaseURL],
	}

	if s := raw[EnvPatientTokenSecret]; s != "" {
		if len(s) < auth.MinPatientSecretLen {
			bad(EnvPatientTokenSecret, "is %d bytes; it must be at least %d", len(s), auth.MinPatientSecretLen)
		} else {
			c.patientSecret = []byte(s)
		}
	}
	c.kmsKeyID = raw[EnvPSOKMSKeyID]
	for _, id := range strings.Split(raw[EnvPSOKMSRetiredKeyIDs], ",") {
		if id = strings.TrimSpace(id); id != "" {
			c.kmsRetiredKeyIDs = append(c.kmsRetiredKeyIDs, id)
		}
	}
	if p := raw[EnvPSOSigningKeyPEM]; p != "" && c.kmsKeyID == "" {
		if !strings.Contains(p, "\n") && strings.Contains(p, `\n`) {
			p = strings.ReplaceAll(p, `\n`, "\n")
		}
		key, err := signer.ParseFileKeyPEM([]byte(p))
		if err != nil {
			bad(EnvPSOSigningKeyPEM, "must be a PKCS#8 P-256 private key in PEM: %v", err)
		} else {
			c.signingKey = key
		}
	}
	if u := raw[EnvProviderJWKSURL]; u != "" {
		if err := checkURL(u); err != nil {
			bad(EnvProviderJWKSURL, "%v", err)
		}
	}
	if o := raw[EnvPublicOrigin]; o != "" {
		origin, err := parseOrigin(o)
		if err != nil {
			bad(EnvPublicOrigin, "%v", err)
		}
		c.publicOrigin = origin
	}
	if u := raw[EnvVerifyBaseURL]; u != "" {
		if err := checkURL(u); err != nil {
			bad(EnvVerifyBaseURL, "%v", err)
		}
	}
	if y := raw[EnvRetentionYears]; y != "" {
		n, err := strconv.Atoi(y)
		if err != nil || n < 1 || n > MaxRetentionYears {
			bad(EnvRetentionYears, "is %q; it must be a whole number of years from 1 to %d", y, MaxRetentionYears)
		}
		c.retentionYears = n
	}
	if u := raw[EnvWebhookQueueURL]; u != "" {
		if err := checkURL(u); err != nil {
			bad(EnvWebhookQueueURL, "%v", err)
		}
	}
	for _, name := range []string{EnvDynamoDBEndpoint, EnvS3Endpoint} {
		if u := raw[name]; u != "" {
			if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
				bad(name, "is %q; it must be an http(s) URL", u)
			}
		}
	}
	c.aws.AccessKey, c.aws.SecretKey, c.aws.SessionToken = getenv(envAccessKeyID), getenv(envSecretAccessKey), getenv(envSessionToken)
	return c, errors.Join(problems...)
}

// checkURL accepts an absolute https URL, or http to a loopback host.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("is %q; it must be an absolute https URL", raw)
	}
	if u.Scheme != "https" && (u.Scheme != "http" || !isLoopback(u.Hostname())) {
		return fmt.Errorf("is %q; it must be https (http only to a loopback host)", raw)
	}
	return nil
}

// parseOrigin checks an origin (scheme, host, optional port; nothing else)
// and returns it as browsers send it in the Origin header.
func parseOrigin(raw string) (string, error) {
	if err := checkURL(raw); err != nil {
		return "", err
	}
	u, _ := url.Parse(raw)
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil || u.Opaque != "" {
		return "", fmt.Errorf("is %q; it must be an origin such as https://app.example.com (no path, query or user)", raw)
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// SelectConsumers returns the change-feed consumers the dispatch function
// runs, by the comma-separated names in the CONSUMER variable, in the order
// given; when CONSUMER is empty, every consumer of Consumers, in its order.
// One function runs them all on the table's single stream subscription
// because DynamoDB Streams serves few readers per shard; CONSUMER lets a
// consumer move to a function of its own without a code change. An unknown
// or repeated name is an error that lists the known ones.
func (a *App) SelectConsumers(getenv func(string) string) ([]Consumer, error) {
	all := a.Consumers()
	spec := strings.TrimSpace(getenv(EnvConsumer))
	if spec == "" {
		return all, nil
	}
	known := make([]string, len(all))
	for i, c := range all {
		known[i] = c.Name
	}
	var out []Consumer
	var seen []string
	for _, name := range strings.Split(spec, ",") {
		name = strings.TrimSpace(name)
		i := slices.Index(known, name)
		switch {
		case i < 0:
			return nil, fmt.Errorf("app: %s names consumer %q; known consumers: %s", EnvConsumer, name, strings.Join(known, ", "))
		case slices.Contains(seen, name):
			return nil, fmt.Errorf("app: %s names consumer %q twice", EnvConsumer, name)
		}
		seen = append(seen, name)
		out = append(out, all[i])
	}
	return out, nil
}
