package turnserver

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/pion/turn/v2"

	"github.com/goodfaith/goodfaith/internal/ice"
)

// Config configures a TURN server that accepts the credentials ice.Config
// issues.
type Config struct {
	// Listen is the UDP address to listen on, e.g. "127.0.0.1:3478"
	// (":0" style ports pick a free one).
	Listen string
	// RelayIP is the address relayed candidates carry: the host's public
	// address in production, 127.0.0.1 in tests.
	RelayIP net.IP
	// RelayBind is the local address relays bind to (default "0.0.0.0", or
	// RelayIP when it is loopback).
	RelayBind string
	// MinRelayPort and MaxRelayPort, when set, bound the UDP ports relays
	// take, so that a firewall (a security group) opens only that range;
	// zero lets the system pick any free port.
	MinRelayPort, MaxRelayPort uint16
	Realm                      string // default "goodfaith"
	Secret                     []byte // shared with ice.Config.Secret
	Now                        func() time.Time
	Log                        *slog.Logger
}

// Server is a running TURN server.
type Server struct {
	srv      *turn.Server
	conn     net.PacketConn
	accepted atomic.Int64
	refused  atomic.Int64
}

// ErrConfig is returned by Start for an unusable configuration.
var ErrConfig = errors.New("turnserver: invalid TURN server configuration")

// Start listens and serves TURN over UDP until Close.
func Start(c Config) (*Server, error) {
	if len(c.Secret) < ice.MinSecretLen || c.RelayIP == nil || c.Listen == "" {
		return nil, fmt.Errorf("%w: listen address, relay IP and a secret of %d+ bytes are required", ErrConfig, ice.MinSecretLen)
	}
	if (c.MinRelayPort == 0) != (c.MaxRelayPort == 0) || c.MinRelayPort > c.MaxRelayPort {
		return nil, fmt.Errorf("%w: relay ports %d-%d: give both ends, lowest first", ErrConfig, c.MinRelayPort, c.MaxRelayPort)
	}
	if c.Realm == "" {
		c.Realm = "goodfaith"
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.RelayBind == "" {
		c.RelayBind = "0.0.0.0"
		if c.RelayIP.IsLoopback() {
			c.RelayBind = c.RelayIP.String()
		}
	}
	conn, err := net.ListenPacket("udp4", c.Listen)
	if err != nil {
		return nil, err
	}
	t := &Server{conn: conn}
	secret := append([]byte(nil), c.Secret...)
	srv, err := turn.NewServer(turn.ServerConfig{
		Realm: c.Realm,
		AuthHandler: func(username, realm string, src net.Addr) ([]byte, bool) {
			pw, err := ice.Check(secret, username, c.Now())
			if err != nil {
				t.refused.Add(1)
				// The username carries an expiry and an opaque id, no PHI.
				c.Log.Info("turn auth refused", "reason", err.Error())
				return nil, false
			}
			t.accepted.Add(1)
			return turn.GenerateAuthKey(username, realm, pw), true
		},
		PacketConnConfigs: []turn.PacketConnConfig{{
			PacketConn:            conn,
			RelayAddressGenerator: relayGenerator(c),
		}},
	})
	if err != nil {
		conn.Close()
		return nil, err
	}
	t.srv = srv
	return t, nil
}

func relayGenerator(c Config) turn.RelayAddressGenerator {
	if c.MinRelayPort == 0 {
		return &turn.RelayAddressGeneratorStatic{RelayAddress: c.RelayIP, Address: c.RelayBind}
	}
	return &turn.RelayAddressGeneratorPortRange{RelayAddress: c.RelayIP, Address: c.RelayBind, MinPort: c.MinRelayPort, MaxPort: c.MaxRelayPort}
}

// Addr is the UDP address the server listens on.
func (t *Server) Addr() net.Addr { return t.conn.LocalAddr() }

// URL is the turn: URL of the server for ICE configuration.
func (t *Server) URL() string { return "turn:" + t.Addr().String() + "?transport=udp" }

// Accepted counts authenticated requests; Refused counts refused ones.
func (t *Server) Accepted() int64 { return t.accepted.Load() }

// Refused counts requests whose credentials were refused.
func (t *Server) Refused() int64 { return t.refused.Load() }

// Allocations is the number of live relay allocations.
func (t *Server) Allocations() int { return t.srv.AllocationCount() }

// Close stops the server and its relays.
func (t *Server) Close() error { return t.srv.Close() }
