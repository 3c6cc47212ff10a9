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

	"github.com/goodfaith/goodfaith/internal/ice/turnserver"
)

// options are the command line.
type options struct {
	listen, relayIP, realm, secretFile string
	minPort, maxPort                   uint
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("turn", flag.ContinueOnError)
	fs.StringVar(&o.listen, "listen", "127.0.0.1:3478", "UDP address to listen on")
	fs.StringVar(&o.relayIP, "relay-ip", "127.0.0.1", "address relayed candidates advertise (the host's public IP)")
	fs.StringVar(&o.realm, "realm", "goodfaith", "TURN realm")
	fs.StringVar(&o.secretFile, "secret-file", "", "file holding the shared secret (instead of TURN_SECRET)")
	fs.UintVar(&o.minPort, "min-port", 0, "lowest UDP port of relays (0: any free port)")
	fs.UintVar(&o.maxPort, "max-port", 0, "highest UDP port of relays")
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	if fs.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return o, nil
}

func main() {
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "turn:", err)
		os.Exit(2)
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	secret, err := readSecret(o.secretFile, os.Getenv("TURN_SECRET"))
	if err == nil {
		err = run(turnserver.Config{Listen: o.listen, Realm: o.realm, Secret: secret, Log: log}, o.relayIP, o.minPort, o.maxPort)
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

func run(c turnserver.Config, relayIP string, minPort, maxPort uint) error {
	c.RelayIP = net.ParseIP(relayIP)
	if c.RelayIP == nil {
		return fmt.Errorf("-relay-ip %q is not an IP address", relayIP)
	}
	if minPort > 65535 || maxPort > 65535 {
		return errors.New("-min-port and -max-port must be UDP ports")
	}
	c.MinRelayPort, c.MaxRelayPort = uint16(minPort), uint16(maxPort)
	srv, err := turnserver.Start(c)
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
