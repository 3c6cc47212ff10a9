// Package ice hands out the ICE servers a video consult uses: STUN, and
// TURN with short-lived credentials in the TURN REST format (username
// "expiry:user" with expiry in Unix seconds, password the base64 HMAC-SHA1
// of the username under a secret shared with the TURN server), and checks
// such credentials on the TURN server's side (Check). The server itself is
// package turnserver, apart so that the functions handing out credentials
// do not link it.
package ice
