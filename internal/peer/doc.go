// Package peer is a reusable Pion WebRTC client of the video consult: it
// connects to the signaling socket (GET /v1/signal?token=), joins an
// exam's room as the patient or the provider, negotiates a peer connection
// (the provider offers; candidates trickle), sends a synthetic VP8 video
// track and data-channel messages, counts the RTP it receives and measures
// the time from dialing to a connected peer connection and the signaling
// relay latency. Tests and the load command (infra/videoload) use it.
package peer
