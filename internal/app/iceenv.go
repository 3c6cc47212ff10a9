package app

import (
	"errors"
	"fmt"
	"strings"

	"github.com/goodfaith/goodfaith/internal/ice"
)

// The ICE servers GET /v1/ice-servers hands out (template.yaml sets them
// from the IceStunUrls, IceTurnUrls and TurnSecretArn parameters, which take
// the TURN stack's outputs, infra/turn/README.md). All three are optional:
// unset, the endpoint answers an empty list and browsers connect directly
// or not at all.
const (
	// EnvICESTUNURLs is a comma-separated list of stun: URLs.
	EnvICESTUNURLs = "ICE_STUN_URLS"
	// EnvICETURNURLs is a comma-separated list of turn: or turns: URLs of
	// servers that check TURN REST credentials (infra/turn).
	EnvICETURNURLs = "ICE_TURN_URLS"
	// EnvICETURNSecret is the secret shared with those servers; required
	// with EnvICETURNURLs.
	EnvICETURNSecret = "ICE_TURN_SECRET"
)

// iceFromEnv reads the ICE servers; nil when none is configured. Errors
// name the variable, never the secret's value.
func iceFromEnv(getenv func(string) string) (*ice.Config, error) {
	stun, serr := iceURLs(getenv(EnvICESTUNURLs), EnvICESTUNURLs, "stun:")
	turn, terr := iceURLs(getenv(EnvICETURNURLs), EnvICETURNURLs, "turn:", "turns:")
	secret := getenv(EnvICETURNSecret)
	if serr != nil || terr != nil {
		return nil, fmt.Errorf("app: %w", errors.Join(serr, terr))
	}
	switch {
	case len(turn) > 0 && len(secret) < ice.MinSecretLen:
		return nil, fmt.Errorf("app: %s must be set (%d+ characters) with %s", EnvICETURNSecret, ice.MinSecretLen, EnvICETURNURLs)
	case len(turn) == 0 && secret != "":
		return nil, fmt.Errorf("app: %s is set without %s", EnvICETURNSecret, EnvICETURNURLs)
	case len(stun) == 0 && len(turn) == 0:
		return nil, nil
	}
	c := &ice.Config{STUN: stun, TURN: turn, Secret: []byte(secret)}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("app: %s: %w", EnvICETURNSecret, err)
	}
	return c, nil
}

// iceURLs splits a comma-separated list, each URL starting with one of
// schemes and naming a host.
func iceURLs(raw, name string, schemes ...string) ([]string, error) {
	var out []string
	for _, u := range strings.Split(raw, ",") {
		u = strings.TrimSpace(u)
		if u == "" {
			continue
		}
		ok := false
		for _, s := range schemes {
			ok = ok || (strings.HasPrefix(u, s) && len(u) > len(s) && !strings.ContainsAny(u, " \t"))
		}
		if !ok {
			return nil, fmt.Errorf("%s: %q is not a %s URL", name, u, strings.Join(schemes, " or "))
		}
		out = append(out, u)
	}
	return out, nil
}
