package app

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/goodfaith/goodfaith/internal/auth"
	"github.com/goodfaith/goodfaith/internal/directory/seedtest"
	"github.com/goodfaith/goodfaith/internal/httpapi"
	"github.com/goodfaith/goodfaith/internal/lambdahttp"
	"github.com/goodfaith/goodfaith/internal/signer"
	"github.com/goodfaith/goodfaith/internal/store/dynamo"
	"github.com/goodfaith/goodfaith/internal/testenv"
)

const testSecret = "0123456789abcdef0123456789abcdef-patient"

func pemOf(t *testing.T, key any) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func p256PEM(t *testing.T) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pemOf(t, k)
}

// validEnv is a complete environment as template.yaml sets it.
func validEnv(t *testing.T) map[string]string {
	return map[string]string{
		EnvTableName:          "goodfaith-table",
		EnvBucketName:         "goodfaith-documents",
		EnvSSEKMSKeyID:        "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
		EnvPatientTokenSecret: testSecret,
		EnvPSOSigningKeyPEM:   p256PEM(t),
		EnvProviderIssuer:     "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example",
		EnvProviderAudience:   "3n4b5urk1ft4fl3mg5e62d9ado",
		EnvProviderJWKSURL:    "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example/.well-known/jwks.json",
		EnvPublicOrigin:       "https://App.Goodfaith.example/",
		EnvVerifyBaseURL:      "https://app.goodfaith.example/v1/psos/",
		EnvRetentionYears:     "7",
		EnvRegion:             "us-east-1",
		EnvWebhookQueueURL:    "https://sqs.us-east-1.amazonaws.com/123456789012/goodfaith-webhook-deliveries",
	}
}

func getenvOf(m map[string]string) func(string) string {
	return func(name string) string { return m[name] }
}

func TestFromEnvBuildsTheApp(t *testing.T) {
	env := validEnv(t)
	a, home, err := fromEnv(context.Background(), getenvOf(env))
	if err != nil {
		t.Fatalf("FromEnv: %v", err)
	}
	if home.Store == nil || home.DB == nil || home.S3 == nil || a.Ports.Store != home.Store {
		t.Fatal("the AWS home is not wired into the app")
	}
	key, err := signer.ParseFileKeyPEM([]byte(env[EnvPSOSigningKeyPEM]))
	if err != nil {
		t.Fatal(err)
	}
	if a.Ports.Signer.KeyID() != key.KeyID() {
		t.Error("the app signs with another key than PSO_SIGNING_KEY_PEM")
	}
	s := a.Settings
	if s.PublicOrigin != "https://app.goodfaith.example" || s.TokenIssuer != s.PublicOrigin {
		t.Errorf("public origin %q, token issuer %q; want the normalized origin for both", s.PublicOrigin, s.TokenIssuer)
	}
	if s.VerifyBaseURL != env[EnvVerifyBaseURL] || s.RetentionYears != 7 || string(s.PatientSecret) != testSecret {
		t.Errorf("settings = %+v", s)
	}
	pv, ok := s.Providers.(*auth.ProviderVerifier)
	if !ok || pv.Issuer != env[EnvProviderIssuer] || pv.Audience != env[EnvProviderAudience] || pv.Keys == nil {
		t.Errorf("providers verifier = %#v", s.Providers)
	}
	if s.DevIssuer != nil {
		t.Error("the AWS home must not enable the dev issuer")
	}

	// The public routes answer without touching AWS.
	rec := httptest.NewRecorder()
	a.Handler(httpapi.Public).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/.well-known/jwks.json", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), key.KeyID()) {
		t.Errorf("GET /.well-known/jwks.json = %d %s", rec.Code, rec.Body)
	}
}

func TestFromEnvDefaultsAndOptionals(t *testing.T) {
	env := validEnv(t)
	delete(env, EnvRetentionYears)
	delete(env, EnvSSEKMSKeyID)
	c, err := readEnv(getenvOf(env))
	if err != nil {
		t.Fatal(err)
	}
	if c.retentionYears != 0 || c.aws.SSEKMSKey != "" {
		t.Errorf("retention %d, key %q; want the defaults (0: the PSO issuer's 10 years; the bucket's encryption)", c.retentionYears, c.aws.SSEKMSKey)
	}
	if c.aws.AccessKey != "" || c.aws.SecretKey != "" || c.aws.SessionToken != "" {
		t.Errorf("credentials %+v from an environment that has none", c.aws)
	}
}

func TestFromEnvNamesEveryMissingVariable(t *testing.T) {
	_, _, err := fromEnv(context.Background(), getenvOf(nil))
	if err == nil {
		t.Fatal("an empty environment was accepted")
	}
	for _, name := range requiredEnv {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
	for _, name := range []string{EnvSSEKMSKeyID, EnvRetentionYears, EnvDynamoDBEndpoint, EnvS3Endpoint, EnvRegion} {
		if strings.Contains(err.Error(), name) {
			t.Errorf("error names the optional %s: %v", name, err)
		}
	}
	for _, name := range requiredEnv {
		env := validEnv(t)
		env[name] = "  "
		_, _, err := fromEnv(context.Background(), getenvOf(env))
		if name == EnvPatientTokenSecret {
			// Blank is not empty for a secret, which is taken as is: it
			// is then too short.
			if err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("blank %s: error %v", name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), "missing environment variable(s) "+name) {
			t.Errorf("without %s: error %v, want it named as missing", name, err)
		}
	}
}

func TestFromEnvReadsEveryVariableBeforeFailing(t *testing.T) {
	var mu sync.Mutex
	var read []string
	getenv := func(name string) string {
		mu.Lock()
		defer mu.Unlock()
		read = append(read, name)
		return ""
	}
	if _, _, err := fromEnv(context.Background(), getenv); err == nil {
		t.Fatal("an empty environment was accepted")
	}
	for _, name := range envNames {
		if !slices.Contains(read, name) {
			t.Errorf("%s was not read", name)
		}
	}
}

func TestFromEnvRefusesBadValues(t *testing.T) {
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaPEM := pemOf(t, rsaKey)
	cases := []struct {
		name, value, want string
	}{
		{EnvPatientTokenSecret, "short-secret-of-31-bytes-xxxxxx", "is 31 bytes; it must be at least 32"},
		{EnvPSOSigningKeyPEM, "not a pem", "no PEM block"},
		{EnvPSOSigningKeyPEM, pemOf(t, p384), "not an ECDSA P-256 key"},
		{EnvPSOSigningKeyPEM, rsaPEM, "not an ECDSA P-256 key"},
		{EnvPSOSigningKeyPEM, strings.Replace(rsaPEM, "PRIVATE KEY", "RSA PRIVATE KEY", 2), `"RSA PRIVATE KEY"`},
		{EnvProviderJWKSURL, "http://idp.example/jwks.json", "must be https"},
		{EnvProviderJWKSURL, "/jwks.json", "absolute https URL"},
		{EnvPublicOrigin, "https://app.example/widget", "must be an origin"},
		{EnvPublicOrigin, "https://app.example?x=1", "must be an origin"},
		{EnvPublicOrigin, "app.example", "absolute https URL"},
		{EnvVerifyBaseURL, "ftp://app.example/v1/psos/", "must be https"},
		{EnvRetentionYears, "0", "from 1 to 100"},
		{EnvRetentionYears, "101", "from 1 to 100"},
		{EnvRetentionYears, "ten", "from 1 to 100"},
		{EnvDynamoDBEndpoint, "localhost:8000", "http(s) URL"},
		{EnvS3Endpoint, "ftp://127.0.0.1:9000", "http(s) URL"},
	}
	for _, c := range cases {
		env := validEnv(t)
		env[c.name] = c.value
		_, _, err := fromEnv(context.Background(), getenvOf(env))
		if err == nil {
			t.Errorf("%s=%.40q was accepted", c.name, c.value)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, c.name) || !strings.Contains(msg, c.want) {
			t.Errorf("%s=%.40q: error %q, want it to name the variable and say %q", c.name, c.value, msg, c.want)
		}
		if (c.name == EnvPatientTokenSecret || c.name == EnvPSOSigningKeyPEM) && strings.Contains(err.Error(), strings.TrimSpace(c.value)) {
			t.Errorf("%s: the error quotes the secret value", c.name)
		}
	}

	// Every problem is reported at once.
	env := validEnv(t)
	env[EnvPatientTokenSecret] = "short"
	env[EnvRetentionYears] = "0"
	delete(env, EnvTableName)
	_, _, err = fromEnv(context.Background(), getenvOf(env))
	for _, name := range []string{EnvPatientTokenSecret, EnvRetentionYears, EnvTableName} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("error %v does not name %s", err, name)
		}
	}
}

func TestFromEnvAcceptsAPEMOnOneLine(t *testing.T) {
	env := validEnv(t)
	want, err := signer.ParseFileKeyPEM([]byte(env[EnvPSOSigningKeyPEM]))
	if err != nil {
		t.Fatal(err)
	}
	env[EnvPSOSigningKeyPEM] = strings.ReplaceAll(strings.TrimSpace(env[EnvPSOSigningKeyPEM]), "\n", `\n`)
	a, _, err := fromEnv(context.Background(), getenvOf(env))
	if err != nil {
		t.Fatalf("FromEnv: %v", err)
	}
	if a.Ports.Signer.KeyID() != want.KeyID() {
		t.Error("another key was read")
	}
}

// The role's credentials come from the variables the Lambda runtime sets,
// session token included; without them every AWS call fails with an error
// that names the variables, as the SDK's chain would.
func TestFromEnvTakesTheRolesCredentials(t *testing.T) {
	env := validEnv(t)
	env[envAccessKeyID], env[envSecretAccessKey], env[envSessionToken] = "ASIATEST", "secret", "session-token"
	c, err := readEnv(getenvOf(env))
	if err != nil {
		t.Fatal(err)
	}
	got, err := sdkConfig(c.aws, getenvOf(env)).Credentials.Retrieve(context.Background())
	if err != nil || got.AccessKeyID != "ASIATEST" || got.SecretAccessKey != "secret" || got.SessionToken != "session-token" {
		t.Errorf("credentials %+v, %v; want the environment's, with the session token", got, err)
	}
	delete(env, envAccessKeyID)
	if c, err = readEnv(getenvOf(env)); err != nil {
		t.Fatal(err)
	}
	if _, err := sdkConfig(c.aws, getenvOf(env)).Credentials.Retrieve(context.Background()); !errors.Is(err, errNoCredentials) || !strings.Contains(err.Error(), envAccessKeyID) {
		t.Errorf("without %s: %v; want errNoCredentials", envAccessKeyID, err)
	}
}

// The clients find their endpoint overrides in the SDK's documented
// variables: the service's own, else the global one, neither when told to
// ignore them; none in AWS.
func TestSDKConfigEndpointVariables(t *testing.T) {
	endpointOf := func(env map[string]string) string {
		db := dynamodb.NewFromConfig(sdkConfig(AWSConfig{Region: "us-east-1"}, getenvOf(env)))
		return aws.ToString(db.Options().BaseEndpoint)
	}
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{nil, ""},
		{map[string]string{"AWS_ENDPOINT_URL_KMS": "http://127.0.0.1:1"}, ""},
		{map[string]string{"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:2"}, "http://127.0.0.1:2"},
		{map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:3"}, "http://127.0.0.1:3"},
		{map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:3", "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:2"}, "http://127.0.0.1:2"},
		{map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:3", "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:2", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}, ""},
	} {
		if got := endpointOf(tc.env); got != tc.want {
			t.Errorf("%v: a DynamoDB client's endpoint is %q, want %q", tc.env, got, tc.want)
		}
	}
	// Multi-word SDK ids use underscores.
	if got, found, _ := (configEnv{getenv: getenvOf(map[string]string{"AWS_ENDPOINT_URL_API_GATEWAY": "http://127.0.0.1:4"})}).GetServiceBaseEndpoint(context.Background(), "API Gateway"); !found || got != "http://127.0.0.1:4" {
		t.Errorf("API Gateway: %q, %v", got, found)
	}
	cfg := sdkConfig(AWSConfig{Region: "us-east-1"}, getenvOf(nil))
	if cfg.RequestChecksumCalculation != aws.RequestChecksumCalculationWhenSupported || cfg.ResponseChecksumValidation != aws.ResponseChecksumValidationWhenSupported {
		t.Errorf("checksums %v/%v; want the loader's defaults (when supported)", cfg.RequestChecksumCalculation, cfg.ResponseChecksumValidation)
	}
}

func TestSelectConsumers(t *testing.T) {
	a, _, err := fromEnv(context.Background(), getenvOf(validEnv(t)))
	if err != nil {
		t.Fatal(err)
	}
	names := func(cs []Consumer) []string {
		out := []string{}
		for _, c := range cs {
			out = append(out, c.Name)
		}
		return out
	}
	all, err := a.SelectConsumers(getenvOf(nil))
	if err != nil || !slices.Equal(names(all), names(a.Consumers())) || len(all) == 0 {
		t.Fatalf("no CONSUMER: %v, %v; want every consumer", names(all), err)
	}
	first := all[0].Name
	one, err := a.SelectConsumers(getenvOf(map[string]string{EnvConsumer: " " + first + " "}))
	if err != nil || !slices.Equal(names(one), []string{first}) {
		t.Errorf("CONSUMER=%s: %v, %v", first, names(one), err)
	}
	for _, spec := range []string{"nope", first + ",nope", first + "," + first, first + ","} {
		if _, err := a.SelectConsumers(getenvOf(map[string]string{EnvConsumer: spec})); err == nil || !strings.Contains(err.Error(), EnvConsumer) {
			t.Errorf("CONSUMER=%q: error %v", spec, err)
		}
	}
}

// TestFromEnvOnDynamoDBLocal builds the app as a Lambda function does, with
// the endpoint override pointing at DynamoDB Local, and serves a widget
// request that reads the store through the Lambda adapter.
func TestFromEnvOnDynamoDBLocal(t *testing.T) {
	endpoint := testenv.DynamoDB(t)
	ctx := context.Background()
	env := validEnv(t)
	table := fmt.Sprintf("goodfaith-fromenv-%d", time.Now().UnixNano())
	env[EnvTableName] = table
	env[EnvDynamoDBEndpoint] = endpoint
	env[envAccessKeyID], env[envSecretAccessKey] = "test", "test"
	a, home, err := fromEnv(ctx, getenvOf(env))
	if err != nil {
		t.Fatalf("FromEnv: %v", err)
	}
	if err := dynamo.CreateTable(ctx, home.DB, table); err != nil {
		t.Fatal(err)
	}
	seed := seedtest.E2E(t)
	if err := a.LoadSeed(ctx, seed); err != nil {
		t.Fatal(err)
	}
	clinic := seed.Clinics[0]
	e := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RawPath: "/v1/widget/config",
		Headers: map[string]string{"x-goodfaith-key": clinic.PublishableKey, "origin": clinic.AllowedOrigins[0], "host": "api.example"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: "/v1/widget/config", SourceIP: "203.0.113.1"},
		},
	}
	resp, err := lambdahttp.Handler(a.Handler(httpapi.Patient))(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Clinic struct {
			ID string `json:"id"`
		} `json:"clinic"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(resp.Body), &body) != nil || body.Clinic.ID != clinic.ID {
		t.Fatalf("GET /v1/widget/config = %d %s", resp.StatusCode, resp.Body)
	}
	if resp.Headers["Access-Control-Allow-Origin"] != clinic.AllowedOrigins[0] {
		t.Errorf("CORS headers = %v", resp.Headers)
	}
}
