package apigw

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/goodfaith/goodfaith/internal/connections"
)

// MaxMessageBytes is API Gateway's limit on one WebSocket message.
const MaxMessageBytes = 128 << 10

// ErrTooLarge is returned by Send for a message over MaxMessageBytes.
var ErrTooLarge = errors.New("apigw: message too large")

// Client posts to connections through the Management API.
type Client struct {
	// Endpoint is https://{api-id}.execute-api.{region}.amazonaws.com/{stage}
	// (or a custom domain with its base path).
	Endpoint    string
	Region      string
	Credentials aws.CredentialsProvider
	HTTP        *http.Client // default: a client with a 10 s timeout
	signer      *v4.Signer
}

var _ connections.Sender = (*Client)(nil)

// New returns a client; endpoint must be an absolute http(s) URL.
func New(endpoint, region string, creds aws.CredentialsProvider) (*Client, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("apigw: endpoint %q is not an http(s) URL", endpoint)
	}
	if region == "" || creds == nil {
		return nil, errors.New("apigw: region and credentials are required")
	}
	return &Client{Endpoint: strings.TrimSuffix(endpoint, "/"), Region: region, Credentials: creds,
		HTTP: &http.Client{Timeout: 10 * time.Second}, signer: v4.NewSigner()}, nil
}

// Send posts msg to the connection id.
func (c *Client) Send(ctx context.Context, id string, msg []byte) error {
	if len(msg) > MaxMessageBytes {
		return ErrTooLarge
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Endpoint+"/@connections/"+url.PathEscape(id), bytes.NewReader(msg))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	creds, err := c.Credentials.Retrieve(ctx)
	if err != nil {
		return fmt.Errorf("apigw: credentials: %w", err)
	}
	sum := sha256.Sum256(msg)
	if err := c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "execute-api", c.Region, time.Now()); err != nil {
		return fmt.Errorf("apigw: sign: %w", err)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("apigw: post to connection: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	switch {
	case resp.StatusCode == http.StatusGone:
		return connections.ErrGone
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	default:
		return fmt.Errorf("apigw: post to connection: %s: %s", resp.Status, errorType(resp, body))
	}
}

// errorType names the AWS error without echoing the message body (which
// could in theory quote the payload).
func errorType(resp *http.Response, body []byte) string {
	if t := resp.Header.Get("X-Amzn-Errortype"); t != "" {
		return t
	}
	return fmt.Sprintf("%d bytes of error body", len(body))
}
