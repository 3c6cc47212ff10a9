// Command turn is the TURN server of video consults, built on pion/turn. It
// accepts the short-lived credentials GET /v1/ice-servers issues (TURN REST
// format: username "expiry:user", password base64 HMAC-SHA1 of the username
// under the shared secret) and refuses expired ones.
//
//	TURN_SECRET=… go run ./infra/turn -listen 0.0.0.0:3478 -relay-ip 203.0.113.7
//
// Deployment: run it on a host (or container) with a public IP, UDP 3478
// and the relay port range open; give the API the same secret
// (GOODFAITH_TURN_SECRET) and the URL turn:<host>:3478?transport=udp.
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
	"syscall"

	"github.com/goodfaith/goodfaith/internal/ice"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:3478", "UDP address to listen on")
	relayIP := flag.String("relay-ip", "127.0.0.1", "address relayed candidates advertise (the host's public IP)")
	realm := flag.String("realm", "goodfaith", "TURN realm")
	flag.Parse()
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	if err := run(*listen, *relayIP, *realm, os.Getenv("TURN_SECRET"), log); err != nil {
		fmt.Fprintln(os.Stderr, "turn:", err)
		os.Exit(1)
	}
}

func run(listen, relayIP, realm, secret string, log *slog.Logger) error {
	ip := net.ParseIP(relayIP)
	if ip == nil {
		return fmt.Errorf("-relay-ip %q is not an IP address", relayIP)
	}
	if secret == "" {
		return errors.New("TURN_SECRET is not set")
	}
	srv, err := ice.StartTURN(ice.TURNConfig{Listen: listen, RelayIP: ip, Realm: realm, Secret: []byte(secret), Log: log})
	if err != nil {
		return err
	}
	defer srv.Close()
	log.Info("turn listening", "addr", srv.Addr().String(), "relay_ip", ip.String())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	return nil
}
