package main

import (
	"crypto/rand"
	"fmt"
	"log/slog"
	"net"

	"github.com/goodfaith/goodfaith/internal/ice"
	"github.com/goodfaith/goodfaith/internal/ice/turnserver"
)

// localTURN is the optional in-process TURN server (-turn).
type localTURN struct {
	srv *turnserver.Server
	ice *ice.Config
}

// startTURN runs a TURN server on addr with a fresh secret shared with
// /v1/ice-servers; relayed candidates carry addr's IP.
func startTURN(addr string, log *slog.Logger) (*localTURN, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("-turn %q: %w", addr, err)
	}
	ip := net.ParseIP(host)
	if ip == nil || ip.IsUnspecified() {
		return nil, fmt.Errorf("-turn %q: give the IP address peers reach it on", addr)
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	srv, err := turnserver.Start(turnserver.Config{Listen: addr, RelayIP: ip, Secret: secret, Log: log})
	if err != nil {
		return nil, fmt.Errorf("-turn: %w", err)
	}
	stun := "stun:" + srv.Addr().String()
	return &localTURN{srv: srv, ice: &ice.Config{STUN: []string{stun}, TURN: []string{srv.URL()}, Secret: secret}}, nil
}

func (t *localTURN) Close() error { return t.srv.Close() }
