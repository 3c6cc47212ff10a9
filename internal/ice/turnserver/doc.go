// Package turnserver runs a TURN server (github.com/pion/turn/v2) that
// accepts the short-lived credentials package ice hands out: the local
// server's relay and the one of infra/turn.
package turnserver
