// Package ice hands out the ICE servers a video consult uses: STUN, and
// TURN with short-lived credentials in the TURN REST format (username
// "expiry:user" with expiry in Unix seconds, password the base64 HMAC-SHA1
// of the username under a secret shared with the TURN server). It also
// checks such credentials on the TURN server's side, and runs that server
// (Server, on github.com/pion/turn/v2).
package ice
