package ice

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/goodfaith/goodfaith/internal/clock"
)

// MinSecretLen is the shortest shared secret accepted.
const MinSecretLen = 16

// DefaultTTL is how long issued TURN credentials last when Config.TTL is zero.
const DefaultTTL = time.Hour

// MaxUserLen bounds the user part of a username.
const MaxUserLen = 128

// ErrExpired is returned by Check for a credential whose expiry has passed.
var ErrExpired = errors.New("ice: TURN credential expired")

// ErrMalformed is returned by Check for a username not in the
// "expiry:user" form.
var ErrMalformed = errors.New("ice: TURN username is not expiry:user")

// Server is one entry of the ICE server list, shaped like the browser's
// RTCIceServer.
type Server struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// Config says which ICE servers to hand out.
type Config struct {
	STUN   []string // e.g. "stun:turn.example.com:3478"
	TURN   []string // e.g. "turn:turn.example.com:3478?transport=udp"
	Secret []byte   // shared with the TURN server; required when TURN is set
	TTL    time.Duration
	Clock  clock.Clock
}

// Validate reports a configuration that cannot issue credentials.
func (c Config) Validate() error {
	if len(c.TURN) > 0 && len(c.Secret) < MinSecretLen {
		return fmt.Errorf("ice: TURN secret is %d bytes, need at least %d", len(c.Secret), MinSecretLen)
	}
	if c.TTL < 0 {
		return errors.New("ice: negative credential TTL")
	}
	return nil
}

func (c Config) ttl() time.Duration {
	if c.TTL == 0 {
		return DefaultTTL
	}
	return c.TTL
}

func (c Config) now() time.Time {
	if c.Clock == nil {
		return time.Now()
	}
	return c.Clock.Now()
}

// Servers returns the ICE servers for user (an opaque id, no PHI) and when
// their credentials expire.
func (c Config) Servers(user string) ([]Server, time.Time) {
	expires := c.now().Add(c.ttl()).Truncate(time.Second)
	out := []Server{}
	if len(c.STUN) > 0 {
		out = append(out, Server{URLs: append([]string(nil), c.STUN...)})
	}
	if len(c.TURN) > 0 && len(c.Secret) >= MinSecretLen {
		u, p := Credential(c.Secret, user, expires)
		out = append(out, Server{URLs: append([]string(nil), c.TURN...), Username: u, Credential: p})
	}
	return out, expires
}

// Credential returns the TURN REST username and password for user until
// expires.
func Credential(secret []byte, user string, expires time.Time) (username, password string) {
	user = sanitize(user)
	username = strconv.FormatInt(expires.Unix(), 10) + ":" + user
	return username, Password(secret, username)
}

// Password is the base64 HMAC-SHA1 of username under secret.
func Password(secret []byte, username string) string {
	m := hmac.New(sha1.New, secret)
	m.Write([]byte(username))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Check validates the username's form and expiry at now and returns the
// password the client must prove it knows.
func Check(secret []byte, username string, now time.Time) (string, error) {
	exp, user, ok := strings.Cut(username, ":")
	if !ok || user == "" || len(user) > MaxUserLen {
		return "", ErrMalformed
	}
	sec, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || sec <= 0 {
		return "", ErrMalformed
	}
	if !now.Before(time.Unix(sec, 0)) {
		return "", ErrExpired
	}
	return Password(secret, username), nil
}

// sanitize keeps a user id usable inside a username: printable ASCII
// without ':' or spaces, bounded.
func sanitize(user string) string {
	b := make([]byte, 0, len(user))
	for i := 0; i < len(user) && len(b) < MaxUserLen; i++ {
		ch := user[i]
		if ch > ' ' && ch < 0x7f && ch != ':' {
			b = append(b, ch)
		}
	}
	if len(b) == 0 {
		return "anonymous"
	}
	return string(b)
}

// UserFor is the user part of a TURN username for a caller: role and id,
// an opaque reference that carries no PHI.
func UserFor(role, id string) string { return sanitize(role + "-" + id) }
