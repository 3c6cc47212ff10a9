package app

import (
	"context"
	"slices"
	"strings"
	"testing"
)

func TestICEFromEnv(t *testing.T) {
	const secret = "a TURN secret of more than 16 characters"
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

	c, err := iceFromEnv(env(nil))
	if err != nil || c != nil {
		t.Fatalf("nothing set: %v %v, want no ICE configuration", c, err)
	}
	c, err = iceFromEnv(env(map[string]string{
		EnvICESTUNURLs:   "stun:203.0.113.7:3478",
		EnvICETURNURLs:   "turn:203.0.113.7:3478?transport=udp, turns:turn.example.com:5349",
		EnvICETURNSecret: secret,
	}))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.STUN, []string{"stun:203.0.113.7:3478"}) || !slices.Equal(c.TURN, []string{"turn:203.0.113.7:3478?transport=udp", "turns:turn.example.com:5349"}) {
		t.Fatalf("read %+v", c)
	}
	servers, _ := c.Servers("patient-exam_1")
	if len(servers) != 2 || servers[1].Username == "" || servers[1].Credential == "" {
		t.Fatalf("servers %+v: want STUN and TURN with credentials", servers)
	}

	for name, m := range map[string]map[string]string{
		"TURN without secret": {EnvICETURNURLs: "turn:203.0.113.7:3478"},
		"short secret":        {EnvICETURNURLs: "turn:203.0.113.7:3478", EnvICETURNSecret: "short"},
		"secret without TURN": {EnvICETURNSecret: secret},
		"not a stun URL":      {EnvICESTUNURLs: "https://203.0.113.7"},
		"not a turn URL":      {EnvICETURNURLs: "stun:203.0.113.7", EnvICETURNSecret: secret},
		"empty host":          {EnvICETURNURLs: "turn:", EnvICETURNSecret: secret},
	} {
		_, err := iceFromEnv(env(m))
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%s: the error quotes the secret: %v", name, err)
		}
		if !strings.Contains(err.Error(), "ICE_") {
			t.Errorf("%s: the error names no variable: %v", name, err)
		}
	}
}

// FromEnv hands the ICE servers to GET /v1/ice-servers, and refuses a bad
// ICE variable before building anything.
func TestFromEnvReadsTheICEServers(t *testing.T) {
	env := validEnv(t)
	a, _, err := fromEnv(context.Background(), getenvOf(env))
	if err != nil {
		t.Fatal(err)
	}
	if a.Deps.ICE != nil {
		t.Fatalf("no ICE variables, yet ICE = %+v", a.Deps.ICE)
	}
	env[EnvICESTUNURLs] = "stun:203.0.113.7:3478"
	env[EnvICETURNURLs] = "turn:203.0.113.7:3478?transport=udp"
	env[EnvICETURNSecret] = "the TURN stack's generated secret, 48 chars long"
	if a, _, err = fromEnv(context.Background(), getenvOf(env)); err != nil {
		t.Fatal(err)
	}
	servers, _ := a.Deps.ICE.Servers("patient-exam_1")
	if len(servers) != 2 || servers[1].URLs[0] != env[EnvICETURNURLs] || servers[1].Credential == "" {
		t.Fatalf("ICE servers %+v", servers)
	}
	env[EnvICETURNSecret] = ""
	if _, _, err := fromEnv(context.Background(), getenvOf(env)); err == nil || !strings.Contains(err.Error(), EnvICETURNSecret) {
		t.Fatalf("TURN URLs without the secret: %v", err)
	}
}
