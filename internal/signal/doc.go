// Package signal is the video consult's signaling: one handler shared by
// the API Gateway WebSocket Lambda ($connect, $disconnect, $default) and
// the local server's GET /v1/signal endpoint (package localws).
//
// A client connects with ?token= (a patient token or a provider JWT); the
// connection is recorded in the store. It then sends JSON messages
// {type, exam_id, …} with type one of join, offer, answer, candidate,
// leave, ring; the server answers with the same types and error.
//
//   - join: enter the exam's room. Only the patient of the exam (while it
//     is queued, claimed or in consult) and the provider holding its claim
//     may; anyone else gets error exam_not_found, as if it did not exist.
//     The joiner receives {type:join, role, peers:[…], status} (a patient
//     of a queued video exam also gets position: their place among the
//     state's queued video exams, 1 is next) and the others {type:join,
//     from}. Joining again on a connection already in the room only
//     refreshes the ack (the widget's waiting room polls its position so). A patient waiting in the room of a queued video
//     exam rings the eligible online providers ({type:ring, exam_id,
//     state, treatments}); when patient and provider are both in, the
//     exam moves to in_consult.
//   - offer, answer, candidate: relayed to the other members of the room
//     with from set (sdp, candidate and sent_at are passed through).
//   - leave: leave the room; the others get {type:leave, from}.
//   - ring, from a provider: action "accept" claims the rung exam
//     (exam.Service.Claim) and joins its room; no action rings the patient
//     of the provider's exam ({type:ring, attempt}) until they join;
//     action "no_answer" after exam.NoShowRings unanswered rings ends the
//     exam as not_applicable (decided, not billed).
//
// Providers count as online (internal/presence) from their first
// connection until their last one closes. A message to a connection that
// is gone (connections.ErrGone: API Gateway's 410, a closed local socket)
// removes it and its room membership, and its room hears {type:leave,
// from, reason:"gone"}, as on a disconnect. Connection records carry an
// expiry (ConnTTL, DynamoDB's TTL attribute); SweepConnections, run every
// minute by the sweep function and the local server's schedule ticker,
// drops the ones past it whose disconnect was never seen (reason
// "expired"), since DynamoDB's TTL deletes lazily and tells no one.
//
// Connections, rooms and ring counts live in Handler.Live: the table in
// AWS, a file without fsync on the local server (they die with its
// sockets); exams and presence stay in the durable store.
package signal
