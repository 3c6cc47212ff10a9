package turnserver_test

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/pion/turn/v2"
	"go.uber.org/goleak"

	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/ice"
	"github.com/goodfaith/goodfaith/internal/ice/turnserver"
)

var secret = []byte("a turn secret of enough bytes")

func TestTURNServerAcceptsIssuedCredentialsAndRefusesExpired(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	now := time.Now()
	srv, err := turnserver.Start(turnserver.Config{Listen: "127.0.0.1:0", RelayIP: net.IPv4(127, 0, 0, 1), Secret: secret,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	c := ice.Config{TURN: []string{srv.URL()}, Secret: secret, TTL: time.Minute, Clock: clock.NewFake(now)}
	servers, _ := c.Servers("exam_1")
	if err := allocate(t, srv, servers[0].Username, servers[0].Credential); err != nil {
		t.Fatalf("fresh credentials refused: %v", err)
	}
	if srv.Accepted() == 0 {
		t.Fatal("the server authenticated nothing")
	}

	refused := srv.Refused()
	expiredUser, expiredPass := ice.Credential(secret, "exam_1", now.Add(-time.Second))
	if err := allocate(t, srv, expiredUser, expiredPass); err == nil {
		t.Fatal("expired credentials were accepted")
	}
	if srv.Refused() == refused {
		t.Fatal("the expired credential was not refused by the auth handler")
	}

	user, _ := ice.Credential(secret, "exam_1", now.Add(time.Minute))
	if err := allocate(t, srv, user, "not the password"); err == nil {
		t.Fatal("a wrong password was accepted")
	}
	otherUser, otherPass := ice.Credential([]byte("another secret of enough bytes"), "exam_1", now.Add(time.Minute))
	if err := allocate(t, srv, otherUser, otherPass); err == nil {
		t.Fatal("credentials under another secret were accepted")
	}
}

func TestTURNRelaysStayInTheirPortRange(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, bad := range [][2]uint16{{50000, 0}, {0, 50010}, {50010, 50000}} {
		if _, err := turnserver.Start(turnserver.Config{Listen: "127.0.0.1:0", RelayIP: net.IPv4(127, 0, 0, 1), Secret: secret, Log: quiet,
			MinRelayPort: bad[0], MaxRelayPort: bad[1]}); !errors.Is(err, turnserver.ErrConfig) {
			t.Errorf("relay ports %d-%d: %v, want ErrConfig", bad[0], bad[1], err)
		}
	}
	// A range of free ports: the kernel's pick for a few sockets, reopened.
	lo, hi := freePortRange(t, 8)
	srv, err := turnserver.Start(turnserver.Config{Listen: "127.0.0.1:0", RelayIP: net.IPv4(127, 0, 0, 1), Secret: secret, Log: quiet,
		MinRelayPort: lo, MaxRelayPort: hi})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	servers, _ := ice.Config{TURN: []string{srv.URL()}, Secret: secret}.Servers("exam_1")
	for range 3 {
		a, err := allocateRelay(t, srv, servers[0].Username, servers[0].Credential)
		if err != nil {
			t.Fatal(err)
		}
		if a.Port < int(lo) || a.Port > int(hi) {
			t.Fatalf("relay on port %d, outside %d-%d", a.Port, lo, hi)
		}
	}
}

// freePortRange finds n consecutive UDP ports on loopback that are free
// now, starting from the one the kernel picks.
func freePortRange(t *testing.T, n int) (uint16, uint16) {
	t.Helper()
	for range 50 {
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		first := c.LocalAddr().(*net.UDPAddr).Port
		c.Close()
		if first+n > 65535 {
			continue
		}
		ok := true
		for p := first; p < first+n && ok; p++ {
			c, err := net.ListenPacket("udp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
			if err != nil {
				ok = false
				continue
			}
			c.Close()
		}
		if ok {
			return uint16(first), uint16(first + n - 1)
		}
	}
	t.Fatal("no free range of UDP ports on loopback")
	return 0, 0
}

// allocate asks srv for a relay with the given credentials.
func allocate(t *testing.T, srv *turnserver.Server, user, pass string) error {
	_, err := allocateRelay(t, srv, user, pass)
	return err
}

// allocateRelay asks srv for a relay, checks a datagram goes through it and
// returns the relay's address.
func allocateRelay(t *testing.T, srv *turnserver.Server, user, pass string) (*net.UDPAddr, error) {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: srv.Addr().String(), TURNServerAddr: srv.Addr().String(),
		Username: user, Password: pass, Realm: "goodfaith", Conn: conn, RTO: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	relay, err := c.Allocate()
	if err != nil {
		return nil, err
	}
	defer relay.Close()
	if a := relay.LocalAddr().(*net.UDPAddr); !a.IP.IsLoopback() {
		t.Errorf("relay address %v is not loopback", a)
	}
	// A relayed datagram reaches a peer on loopback.
	peer, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	if _, err := relay.WriteTo([]byte("hello"), peer.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	_ = peer.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 16)
	n, from, err := peer.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("relayed datagram: %q %v", buf[:n], err)
	}
	if from.String() != relay.LocalAddr().String() {
		t.Errorf("datagram came from %v, not the relay %v", from, relay.LocalAddr())
	}
	return relay.LocalAddr().(*net.UDPAddr), nil
}
