package ice_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/ice"
)

var secret = []byte("a turn secret of enough bytes")

type fixedClock struct{ t time.Time }

func (f fixedClock) Now() time.Time { return f.t }

var _ clock.Clock = fixedClock{}

func TestServersIssueRESTCredentials(t *testing.T) {
	now := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	c := ice.Config{STUN: []string{"stun:127.0.0.1:3478"}, TURN: []string{"turn:127.0.0.1:3478?transport=udp"}, Secret: secret, TTL: 10 * time.Minute, Clock: fixedClock{now}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	servers, exp := c.Servers("provider:prov tx")
	if !exp.Equal(now.Add(10 * time.Minute)) {
		t.Fatalf("expires %v", exp)
	}
	if len(servers) != 2 || servers[0].Username != "" || servers[0].URLs[0] != "stun:127.0.0.1:3478" {
		t.Fatalf("servers %+v", servers)
	}
	tr := servers[1]
	wantUser := strconv.FormatInt(exp.Unix(), 10) + ":providerprovtx"
	if tr.Username != wantUser {
		t.Fatalf("username %q, want %q", tr.Username, wantUser)
	}
	m := hmac.New(sha1.New, secret)
	m.Write([]byte(wantUser))
	if want := base64.StdEncoding.EncodeToString(m.Sum(nil)); tr.Credential != want {
		t.Fatalf("credential %q, want %q", tr.Credential, want)
	}
	pw, err := ice.Check(secret, tr.Username, now)
	if err != nil || pw != tr.Credential {
		t.Fatalf("check: %q %v", pw, err)
	}
}

func TestCheckRefuses(t *testing.T) {
	now := time.Unix(2_000_000_000, 0)
	for _, tc := range []struct {
		user string
		want error
	}{
		{"1999999999:u", ice.ErrExpired},
		{"2000000000:u", ice.ErrExpired},
		{"nocolon", ice.ErrMalformed},
		{"abc:u", ice.ErrMalformed},
		{"2000000001:", ice.ErrMalformed},
		{"-5:u", ice.ErrMalformed},
		{"2000000001:" + strings.Repeat("x", ice.MaxUserLen+1), ice.ErrMalformed},
	} {
		if _, err := ice.Check(secret, tc.user, now); !errors.Is(err, tc.want) {
			t.Errorf("%q: %v, want %v", tc.user, err, tc.want)
		}
	}
	if _, err := ice.Check(secret, "2000000001:u", now); err != nil {
		t.Errorf("valid username refused: %v", err)
	}
}

func TestValidateWantsSecretForTURN(t *testing.T) {
	if err := (ice.Config{TURN: []string{"turn:x"}, Secret: []byte("short")}).Validate(); err == nil {
		t.Fatal("a short secret was accepted")
	}
	if err := (ice.Config{STUN: []string{"stun:x"}}).Validate(); err != nil {
		t.Fatalf("STUN only: %v", err)
	}
}
