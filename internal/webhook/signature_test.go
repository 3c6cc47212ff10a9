package webhook_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/goodfaith/goodfaith/internal/webhook"
)

func TestSignatureVerifies(t *testing.T) {
	secret := "whsec_test"
	body := []byte(`{"id":"evt_1","type":"exam.decided"}`)
	at := time.Unix(1_700_000_000, 0)
	sig := webhook.Sign(secret, at, body)
	// The documented construction, computed independently: HMAC-SHA256 of
	// "1700000000.<body>" under the secret string.
	if sig != "t=1700000000,v1="+hmacHex(secret, "1700000000."+string(body)) {
		t.Fatalf("Sign = %s", sig)
	}
	cases := []struct {
		name   string
		secret string
		header string
		body   []byte
		now    time.Time
		want   error
	}{
		{"valid", secret, sig, body, at.Add(time.Minute), nil},
		{"valid at the edge", secret, sig, body, at.Add(5 * time.Minute), nil},
		{"one of several v1", secret, "t=1700000000,v1=00ff," + sig[len("t=1700000000,"):], body, at, nil},
		{"replayed later", secret, sig, body, at.Add(5*time.Minute + time.Second), webhook.ErrStaleSignature},
		{"from the future", secret, sig, body, at.Add(-6 * time.Minute), webhook.ErrStaleSignature},
		{"tampered body", secret, sig, []byte(`{"id":"evt_2","type":"exam.decided"}`), at, webhook.ErrBadSignature},
		{"other secret", "whsec_other", sig, body, at, webhook.ErrBadSignature},
		{"timestamp changed", secret, "t=1700000001" + sig[len("t=1700000000"):], body, at, webhook.ErrBadSignature},
		{"missing", secret, "", body, at, webhook.ErrNoSignature},
		{"no v1", secret, "t=1700000000", body, at, webhook.ErrNoSignature},
		{"no t", secret, sig[len("t=1700000000,"):], body, at, webhook.ErrNoSignature},
		{"garbage", secret, "t=abc,v1=zz", body, at, webhook.ErrNoSignature},
	}
	for _, c := range cases {
		if err := webhook.Verify(c.secret, c.header, c.body, c.now); !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
			t.Errorf("%s: Verify = %v, want %v", c.name, err, c.want)
		}
	}
}

func ExampleVerify() {
	secret := "whsec_example" // as PUT /v1/clinic/webhook returned it
	body := []byte(`{"id":"evt_x","type":"exam.submitted"}`)
	sent := time.Unix(1_700_000_000, 0)
	header := webhook.Sign(secret, sent, body) // what Goodfaith sends

	fmt.Println(webhook.Verify(secret, header, body, sent.Add(2*time.Minute)))
	fmt.Println(webhook.Verify(secret, header, body, sent.Add(10*time.Minute)))
	// Output:
	// <nil>
	// webhook: signature timestamp outside the tolerance
}
