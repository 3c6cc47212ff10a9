// Command turn is the TURN server of video consults, built on pion/turn. It
// accepts the short-lived credentials GET /v1/ice-servers issues (TURN REST
// format: username "expiry:user", password base64 HMAC-SHA1 of the username
// under the shared secret) and refuses expired ones.
//
//	TURN_SECRET=… go run ./infra/turn -listen 0.0.0.0:3478 -relay-ip 203.0.113.7
//	go run ./infra/turn -secret-file /run/turn/secret -listen 0.0.0.0:3478 \
//	    -relay-ip 203.0.113.7 -min-port 49160 -max-port 49999
//
// Deployment: infra/turn/template.yaml runs it on an EC2 instance with an
// Elastic IP, UDP 3478 and the relay port range open, and the shared secret
// in Secrets Manager; infra/turn/README.md walks through it and through
// giving the API the same secret and the turn: URL.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/goodfaith/goodfaith/internal/ice"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:3478", "UDP address to listen on")
	relayIP := flag.String("relay-ip", "127.0.0.1", "address relayed candidates advertise (the host's public IP)")
	realm := flag.String("realm", "goodfaith", "TURN realm")
	secretFile := flag.String("secret-file", "", "file holding the shared secret (instead of TURN_SECRET)")
	minPort := flag.Uint("min-port", 0, "lowest UDP port of relays (0: any free port)")
	maxPort := flag.Uint("max-port", 0, "highest UDP port of relays")
	flag.Parse()
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	secret, err := readSecret(*secretFile, os.Getenv("TURN_SECRET"))
	if err == nil {
		err = run(ice.TURNConfig{Listen: *listen, Realm: *realm, Secret: secret, Log: log}, *relayIP, *minPort, *maxPort)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "turn:", err)
		os.Exit(1)
	}
}

// readSecret takes the secret from file (trailing newline trimmed) when
// given, else from env. A file keeps it out of the process environment,
// which other users of the host may read through /proc.
func readSecret(file, env string) ([]byte, error) {
	if file == "" {
		if env == "" {
			return nil, errors.New("TURN_SECRET is not set and no -secret-file given")
		}
		return []byte(env), nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("-secret-file: %w", err)
	}
	s := strings.TrimRight(string(b), "\r\n")
	if s == "" {
		return nil, errors.New("-secret-file is empty")
	}
	return []byte(s), nil
}

func run(c ice.TURNConfig, relayIP string, minPort, maxPort uint) error {
	c.RelayIP = net.ParseIP(relayIP)
	if c.RelayIP == nil {
		return fmt.Errorf("-relay-ip %q is not an IP address", relayIP)
	}
	if minPort > 65535 || maxPort > 65535 {
		return errors.New("-min-port and -max-port must be UDP ports")
	}
	c.MinRelayPort, c.MaxRelayPort = uint16(minPort), uint16(maxPort)
	srv, err := ice.StartTURN(c)
	if err != nil {
		return err
	}
	defer srv.Close()
	c.Log.Info("turn listening", "addr", srv.Addr().String(), "relay_ip", c.RelayIP.String(), "min_port", minPort, "max_port", maxPort)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	return nil
}
