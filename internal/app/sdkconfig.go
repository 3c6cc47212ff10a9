package app

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// sdkConfig is the SDK configuration of c, built without the SDK's config
// loader (aws-sdk-go-v2/config). The loader resolves credentials through a
// chain (shared files, SSO, web identity, assume-role, container and
// instance metadata) that links and initializes the STS, SSO, SSO-OIDC and
// sign-in clients; a Lambda function uses none of them, because the runtime
// puts the execution role's credentials in AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN for the life of the execution
// environment, which is all the loader's chain reads there. Package
// initialization is part of every cold start (`make lambda-bench`), and
// the loader's run reads shared config files that Lambda does not have.
// What the functions use of the loader's configuration is
// kept: the region, those credentials, the per-service endpoint variables
// and AWS_ENDPOINT_URL (configEnv), the loader's checksum defaults and the
// API options; the clients default the rest (standard retries, the default
// HTTP client) as they do under the loader.
func sdkConfig(c AWSConfig, getenv func(string) string) aws.Config {
	cfg := aws.Config{
		Region:      c.Region,
		Credentials: credentialsOf(c),
		APIOptions:  c.APIOptions,
		// The loader's defaults: checksums wherever the operation supports
		// them (S3 requires one on an Object Lock put).
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
	}
	if ignore, _ := strconv.ParseBool(getenv(envIgnoreEndpointURLs)); !ignore {
		if u := getenv(envEndpointURL); u != "" {
			cfg.BaseEndpoint = aws.String(u)
		}
		cfg.ConfigSources = []any{configEnv{getenv: getenv}}
	}
	return cfg
}

// The SDK's endpoint variables (configEnv).
const (
	envEndpointURL        = "AWS_ENDPOINT_URL"
	envIgnoreEndpointURLs = "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"
)

// errNoCredentials is the error of every AWS call when the environment
// holds no credentials (the SDK's chain fails the first call likewise).
var errNoCredentials = errors.New("app: no AWS credentials: " + envAccessKeyID + " and " + envSecretAccessKey +
	" are not set (in Lambda the runtime sets them from the function's role)")

// credentialsOf is c's credentials provider: its static keys, or one that
// fails every call with errNoCredentials.
func credentialsOf(c AWSConfig) aws.CredentialsProvider {
	if c.AccessKey == "" || c.SecretKey == "" {
		return aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{}, errNoCredentials
		})
	}
	return credentials.NewStaticCredentialsProvider(c.AccessKey, c.SecretKey, c.SessionToken)
}

// configEnv answers the clients' question for a configured endpoint (the
// SDK's ServiceBaseEndpointProvider, which each client asks through
// aws.Config.ConfigSources) from the SDK's documented variable
// AWS_ENDPOINT_URL_<SERVICE>: the service's SDK id in upper case with
// spaces as underscores (AWS_ENDPOINT_URL_KMS, AWS_ENDPOINT_URL_SESV2).
// It wins over AWS_ENDPOINT_URL, which sdkConfig sets as every client's
// BaseEndpoint, and AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true turns both
// off, as under the loader. Tests point clients at loopback servers with
// them; in AWS they are unset and the clients resolve the regional
// endpoints.
type configEnv struct {
	getenv func(string) string
}

// GetServiceBaseEndpoint implements the SDK's ServiceBaseEndpointProvider.
func (e configEnv) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	v := e.getenv(envEndpointURL + "_" + strings.ToUpper(strings.ReplaceAll(sdkID, " ", "_")))
	return v, v != "", nil
}
