package signal

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/goodfaith/goodfaith/internal/auth"
	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/connections"
	"github.com/goodfaith/goodfaith/internal/exam"
	"github.com/goodfaith/goodfaith/internal/fault"
	"github.com/goodfaith/goodfaith/internal/presence"
	"github.com/goodfaith/goodfaith/internal/rules"
	"github.com/goodfaith/goodfaith/internal/store"
)

// MaxMessageBytes bounds one client message (API Gateway's frame limit).
const MaxMessageBytes = 32 << 10

// ErrUnauthorized is returned by Connect for a missing or invalid token.
var ErrUnauthorized = errors.New("signal: missing or invalid token")

// ErrUnknownConnection is returned by Message for a connection that never
// connected or is already gone.
var ErrUnknownConnection = errors.New("signal: unknown connection")

// Message types.
const (
	TypeJoin      = "join"
	TypeOffer     = "offer"
	TypeAnswer    = "answer"
	TypeCandidate = "candidate"
	TypeLeave     = "leave"
	TypeRing      = "ring"
	TypeError     = "error"
)

// Reasons a room is told a party left ({type:leave, from, reason}).
const (
	ReasonDisconnected = "disconnected" // the socket closed
	ReasonGone         = "gone"         // a message to it found it gone (connections.ErrGone)
	ReasonExpired      = "expired"      // the connections sweep found its record past ConnTTL
	ReasonReplaced     = "replaced"     // the same party joined on a newer connection
)

// Ring actions.
const (
	ActionAccept   = "accept"
	ActionNoAnswer = "no_answer"
	ActionTaken    = "taken"
)

const (
	rolePatient  = string(auth.RolePatient)
	roleProvider = string(auth.RoleProvider)
)

// In is a client's message.
type In struct {
	Type      string          `json:"type"`
	ExamID    string          `json:"exam_id"`
	Action    string          `json:"action,omitempty"`
	SDP       json.RawMessage `json:"sdp,omitempty"`
	Candidate json.RawMessage `json:"candidate,omitempty"`
	SentAt    int64           `json:"sent_at,omitempty"` // client's clock, passed through for latency measurement
}

// Out is a message the server sends.
type Out struct {
	Type       string          `json:"type"`
	ExamID     string          `json:"exam_id,omitempty"`
	From       string          `json:"from,omitempty"`
	Role       string          `json:"role,omitempty"`
	Peers      []string        `json:"peers,omitempty"`
	Action     string          `json:"action,omitempty"`
	Attempt    int             `json:"attempt,omitempty"`
	Position   int             `json:"position,omitempty"` // a waiting patient's place among the state's queued video exams (1 is next)
	Status     string          `json:"status,omitempty"`
	Outcome    string          `json:"outcome,omitempty"`
	Reason     string          `json:"reason,omitempty"`
	State      string          `json:"state,omitempty"`
	Treatments []string        `json:"treatments,omitempty"`
	SDP        json.RawMessage `json:"sdp,omitempty"`
	Candidate  json.RawMessage `json:"candidate,omitempty"`
	SentAt     int64           `json:"sent_at,omitempty"`
	Code       string          `json:"code,omitempty"`
	Message    string          `json:"message,omitempty"`
}

// ProviderVerifier checks provider JWTs.
type ProviderVerifier interface {
	Verify(ctx context.Context, token string) (auth.Principal, error)
}

// Handler handles the events of signaling connections.
type Handler struct {
	// Store holds the exams' lasting state the handler touches directly:
	// providers' presence (read by dispatch and the queue too).
	Store store.Store
	// Live holds the connections, room memberships and ring counts: state
	// that means nothing once its sockets are closed. In AWS it is the same
	// table as Store; the local server keeps it in a file it does not fsync
	// (localhome.Home), since every local socket dies with the process and a
	// crash can lose only records a crash makes void. Nil means Store.
	Live      store.Store
	Conns     connections.Sender
	Exams     *exam.Service
	Patients  *auth.PatientTokens
	Providers ProviderVerifier
	Clock     clock.Clock
	Log       *slog.Logger
}

func (h *Handler) now() time.Time { return h.Clock.Now().UTC() }

func (h *Handler) live() store.Store {
	if h.Live != nil {
		return h.Live
	}
	return h.Store
}

// Connect authenticates token and records the connection. A provider is
// online from then on.
func (h *Handler) Connect(ctx context.Context, connID, token string) (auth.Principal, error) {
	if connID == "" || len(connID) > 256 {
		return auth.Principal{}, errors.New("signal: invalid connection id")
	}
	p, err := h.authenticate(ctx, token)
	if err != nil {
		return auth.Principal{}, err
	}
	c := conn{ID: connID, Role: string(p.Role), ConnectedAt: h.now()}
	if p.Role == auth.RolePatient {
		c.ExamID, c.ClinicID = p.ExamID, p.ClinicID
	} else {
		c.ProviderID = p.ProviderID
	}
	err = h.live().Put(ctx, c.item(1), store.IfAbsent)
	if errors.Is(err, store.ErrConditionFailed) {
		// A retried $connect: the same connection id is the same socket.
		old, lerr := h.loadConn(ctx, connID)
		if lerr != nil || old.Role != c.Role || old.ExamID != c.ExamID || old.ProviderID != c.ProviderID {
			return auth.Principal{}, errors.New("signal: connection id already in use")
		}
		err = nil
	}
	if err != nil {
		return auth.Principal{}, err
	}
	if p.Role == auth.RoleProvider {
		if _, err := presence.Set(ctx, h.Store, h.Clock, p.ProviderID, true); err != nil {
			return auth.Principal{}, err
		}
	}
	return p, nil
}

func (h *Handler) authenticate(ctx context.Context, token string) (auth.Principal, error) {
	if token == "" || len(token) > auth.MaxTokenLen {
		return auth.Principal{}, ErrUnauthorized
	}
	if p, err := h.Patients.Verify(token); err == nil {
		return p, nil
	}
	p, err := h.Providers.Verify(ctx, token)
	if err != nil {
		if errors.Is(err, auth.ErrUnauthenticated) {
			return auth.Principal{}, ErrUnauthorized
		}
		return auth.Principal{}, err // e.g. auth.ErrKeysUnavailable: not the caller's fault
	}
	if p.Role != auth.RoleProvider || p.ProviderID == "" {
		return auth.Principal{}, ErrUnauthorized
	}
	return p, nil
}

// Disconnect forgets a connection, leaving its room. A provider whose
// last connection closes goes offline. It is idempotent.
func (h *Handler) Disconnect(ctx context.Context, connID string) error {
	c, err := h.loadConn(ctx, connID)
	if errors.Is(err, ErrUnknownConnection) {
		return nil
	}
	if err != nil {
		return err
	}
	return h.drop(ctx, c, ReasonDisconnected, true)
}

// drop removes c and its membership, telling its room (when notify).
func (h *Handler) drop(ctx context.Context, c conn, reason string, notify bool) error {
	if c.Room != "" {
		// A connection replaced by a newer one of the same party (a
		// reconnect after a network blip) is no longer a member: its late
		// disconnect must not tell the room that party left.
		_, gerr := h.live().Get(ctx, memberKey(c.Room, c.ID))
		if gerr != nil && !errors.Is(gerr, store.ErrNotFound) {
			return gerr
		}
		if err := h.live().Delete(ctx, memberKey(c.Room, c.ID), store.None); err != nil {
			return err
		}
		if notify && gerr == nil {
			h.tellOthers(ctx, c.Room, c.ID, Out{Type: TypeLeave, ExamID: c.Room, From: c.Role, Reason: reason})
		}
	}
	if err := h.live().Delete(ctx, connKey(c.ID), store.None); err != nil {
		return err
	}
	if c.Role == roleProvider {
		left, err := h.connsOn(ctx, ProviderConnsPK(c.ProviderID))
		if err != nil {
			return err
		}
		if len(left) == 0 {
			if _, err := presence.Set(ctx, h.Store, h.Clock, c.ProviderID, false); err != nil {
				return err
			}
		}
	}
	return nil
}

// Message handles one client message. Client mistakes are answered with
// an error message and return nil; only an unknown connection and store
// failures return errors.
func (h *Handler) Message(ctx context.Context, connID string, body []byte) error {
	c, err := h.loadConn(ctx, connID)
	if err != nil {
		return err
	}
	var in In
	if err := decode(body, &in); err != nil {
		h.send(ctx, c.ID, Out{Type: TypeError, Code: "bad_message", Message: err.Error()})
		return nil
	}
	switch in.Type {
	case TypeJoin:
		err = h.join(ctx, c, in.ExamID)
	case TypeOffer, TypeAnswer, TypeCandidate:
		err = h.relay(ctx, c, in)
	case TypeLeave:
		err = h.leave(ctx, c, in.ExamID)
	case TypeRing:
		err = h.ring(ctx, c, in)
	}
	if err != nil {
		var fe *fault.Error
		if !errors.As(err, &fe) {
			h.Log.ErrorContext(ctx, "signal message failed", "type", in.Type, "error", err.Error())
			h.send(ctx, c.ID, Out{Type: TypeError, ExamID: in.ExamID, Code: "internal", Message: "something went wrong on our side; try again"})
			return err
		}
		h.send(ctx, c.ID, Out{Type: TypeError, ExamID: in.ExamID, Code: fe.Code, Message: fe.Message, Reason: in.Type})
	}
	return nil
}

func decode(body []byte, in *In) error {
	if len(body) > MaxMessageBytes {
		return errors.New("message too large")
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(in); err != nil {
		return errors.New("message is not a JSON object of known fields")
	}
	if dec.More() {
		return errors.New("one JSON object per message")
	}
	switch in.Type {
	case TypeJoin, TypeLeave, TypeRing:
	case TypeOffer, TypeAnswer:
		if len(in.SDP) == 0 {
			return errors.New(in.Type + " needs sdp")
		}
	case TypeCandidate:
		if len(in.Candidate) == 0 {
			return errors.New("candidate needs candidate")
		}
	default:
		return errors.New(`type must be join, offer, answer, candidate, leave or ring`)
	}
	if in.ExamID == "" || len(in.ExamID) > auth.MaxIDLen {
		return errors.New("exam_id is required")
	}
	return nil
}

var (
	errNotFound  = fault.NotFound("exam_not_found", "no such exam")
	errNotJoined = fault.Conflict("not_joined", "join the exam's room first")
	errClosed    = fault.Conflict("room_closed", "this exam's video room is closed")
)

// mayJoin says whether c may be in the room of r.
func mayJoin(c conn, r exam.Room) error {
	switch c.Role {
	case rolePatient:
		if c.ExamID != r.ExamID {
			return errNotFound
		}
		if !r.Open() {
			return errClosed
		}
	case roleProvider:
		if r.ProviderID != c.ProviderID || (r.Status != exam.Claimed && r.Status != exam.InConsult) {
			return errNotFound
		}
	default:
		return errNotFound
	}
	return nil
}

func (h *Handler) join(ctx context.Context, c conn, examID string) error {
	if c.Role == rolePatient && c.ExamID != examID {
		return errNotFound // another patient's exam: not even a read
	}
	r, err := h.Exams.VideoRoom(ctx, examID)
	if err != nil {
		if errors.Is(err, fault.ErrNotFound) {
			return errNotFound
		}
		return err
	}
	if err := mayJoin(c, r); err != nil {
		return err
	}
	// A join on a connection already in the room refreshes the patient's
	// queue position; it does not ring the providers again.
	again := c.Room == examID
	if c.Room != "" && c.Room != examID {
		if err := h.leave(ctx, c, c.Room); err != nil {
			return err
		}
		c.Room = ""
	}
	ms, err := h.members(ctx, examID)
	if err != nil {
		return err
	}
	now := h.now()
	peers := []string{}
	for _, m := range ms {
		switch {
		case m.ConnID == c.ID:
		case m.Role == c.Role:
			// The same party on a newer connection (a reload, a network
			// change): the older one leaves.
			if err := h.live().Delete(ctx, memberKey(examID, m.ConnID), store.None); err != nil {
				return err
			}
			h.send(ctx, m.ConnID, Out{Type: TypeLeave, ExamID: examID, From: m.Role, Reason: ReasonReplaced})
		default:
			peers = append(peers, m.Role)
		}
	}
	next := c
	next.Room = examID
	ci := next.item(c.version + 1)
	if err := h.live().Transact(ctx,
		store.Op{Put: ptr(member{ConnID: c.ID, Role: c.Role, JoinedAt: now}.item(examID)), Cond: store.None},
		store.Op{Put: &ci, Cond: store.IfVersion(c.version)},
	); err != nil {
		if errors.Is(err, store.ErrConditionFailed) {
			return fault.Conflict("concurrent_update", "this connection changed meanwhile; join again")
		}
		return err
	}
	ack := Out{Type: TypeJoin, ExamID: examID, Role: c.Role, Peers: peers, Status: string(r.Status)}
	if c.Role == rolePatient && r.Status == exam.Queued {
		if ack.Position, err = h.Exams.QueuePosition(ctx, examID); err != nil {
			return err
		}
	}
	h.send(ctx, c.ID, ack)
	if again {
		return nil
	}
	h.tellOthers(ctx, examID, c.ID, Out{Type: TypeJoin, ExamID: examID, From: c.Role})

	if c.Role == rolePatient {
		// The patient is here: rings are answered. (Read first: a write
		// costs far more than a read, and most joins follow no ring.)
		if _, err := h.live().Get(ctx, ringsKey(examID)); err == nil {
			if err := h.live().Delete(ctx, ringsKey(examID), store.None); err != nil {
				return err
			}
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if r.Status == exam.Queued && r.Modality == string(rules.Video) {
			if err := h.ringProviders(ctx, r, "", ""); err != nil {
				return err
			}
		}
	}
	if len(peers) > 0 && r.Status == exam.Claimed {
		if _, err := h.Exams.StartConsult(ctx, r.ProviderID, examID); err != nil {
			h.Log.WarnContext(ctx, "consult start not recorded", "error", err.Error())
		}
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

// ringProviders rings every online provider who may take the exam and is
// not in a call (or
// tells them it was taken when action is ActionTaken), except skip.
func (h *Handler) ringProviders(ctx context.Context, r exam.Room, action, skip string) error {
	page, err := h.live().Query(ctx, store.Query{Index: store.ByGSI2, PK: ProvidersConnectedPK, Limit: store.MaxQueryLimit})
	if err != nil {
		return err
	}
	now := h.now()
	byProvider := map[string][]string{}
	var ids []string
	for _, it := range page.Items {
		if it.Expired(now) {
			continue
		}
		pid, cid, _ := strings.Cut(it.GSI2SK, "#")
		if pid == skip {
			continue
		}
		if c, err := connFrom(it); err == nil && c.Room != "" && action != ActionTaken {
			continue // in a call already: not rung for another
		}
		if _, seen := byProvider[pid]; !seen {
			ids = append(ids, pid)
		}
		byProvider[pid] = append(byProvider[pid], cid)
	}
	if len(ids) == 0 {
		return nil
	}
	if ids, err = h.Exams.MayTake(ctx, r.ExamID, ids); err != nil {
		return err
	}
	msg := Out{Type: TypeRing, ExamID: r.ExamID, State: r.State, Treatments: r.Treatments, Action: action}
	for _, pid := range ids {
		for _, cid := range byProvider[pid] {
			h.send(ctx, cid, msg)
		}
	}
	return nil
}

func (h *Handler) relay(ctx context.Context, c conn, in In) error {
	if c.Room != in.ExamID {
		return errNotJoined
	}
	h.tellOthers(ctx, in.ExamID, c.ID, Out{Type: in.Type, ExamID: in.ExamID, From: c.Role, SDP: in.SDP, Candidate: in.Candidate, SentAt: in.SentAt})
	return nil
}

func (h *Handler) leave(ctx context.Context, c conn, examID string) error {
	if c.Room != examID {
		return errNotJoined
	}
	next := c
	next.Room = ""
	ci := next.item(c.version + 1)
	k := memberKey(examID, c.ID)
	if err := h.live().Transact(ctx, store.Op{Delete: &k, Cond: store.None}, store.Op{Put: &ci, Cond: store.IfVersion(c.version)}); err != nil {
		return err
	}
	h.send(ctx, c.ID, Out{Type: TypeLeave, ExamID: examID, Role: c.Role})
	h.tellOthers(ctx, examID, c.ID, Out{Type: TypeLeave, ExamID: examID, From: c.Role})
	return nil
}

func (h *Handler) ring(ctx context.Context, c conn, in In) error {
	if c.Role != roleProvider {
		return fault.Forbidden("providers_only", "only a provider rings")
	}
	// Ringing keeps the provider's presence fresh.
	if err := h.refreshPresence(ctx, c.ProviderID); err != nil {
		return err
	}
	switch in.Action {
	case ActionAccept:
		if _, err := h.Exams.Claim(ctx, c.ProviderID, in.ExamID); err != nil {
			return err
		}
		// The accepting provider's join (whose ack starts the call) goes
		// first; the others' rings are cleared after it.
		jerr := h.join(ctx, c, in.ExamID)
		if r, err := h.Exams.VideoRoom(ctx, in.ExamID); err == nil {
			_ = h.ringProviders(ctx, r, ActionTaken, c.ProviderID)
		}
		return jerr
	case "":
		return h.ringPatient(ctx, c, in.ExamID)
	case ActionNoAnswer:
		return h.noAnswer(ctx, c, in.ExamID)
	default:
		return fault.Invalid("invalid_action", "action", `action must be "accept", "no_answer" or absent`)
	}
}

// refreshPresence marks the provider online if their presence lapsed
// (connecting set it; the console's heartbeat keeps it).
func (h *Handler) refreshPresence(ctx context.Context, providerID string) error {
	on, err := presence.Online(ctx, h.Store, h.Clock, providerID)
	if err != nil || on {
		return err
	}
	_, err = presence.Set(ctx, h.Store, h.Clock, providerID, true)
	return err
}

// held checks the provider holds the exam and reports whether the patient
// is in its room.
func (h *Handler) held(ctx context.Context, c conn, examID string) (bool, error) {
	r, err := h.Exams.VideoRoom(ctx, examID)
	if err != nil {
		if errors.Is(err, fault.ErrNotFound) {
			return false, errNotFound
		}
		return false, err
	}
	if err := mayJoin(c, r); err != nil {
		return false, err
	}
	ms, err := h.members(ctx, examID)
	if err != nil {
		return false, err
	}
	for _, m := range ms {
		if m.Role == rolePatient {
			return true, nil
		}
	}
	return false, nil
}

func (h *Handler) ringPatient(ctx context.Context, c conn, examID string) error {
	present, err := h.held(ctx, c, examID)
	if err != nil {
		return err
	}
	if present {
		return fault.Conflict("patient_present", "the patient is already in the call")
	}
	rg, err := h.loadRings(ctx, examID)
	if err != nil {
		return err
	}
	rg.ProviderID, rg.LastAt = c.ProviderID, h.now()
	rg.Unanswered++
	if err := h.saveRings(ctx, examID, rg); err != nil {
		if errors.Is(err, store.ErrConditionFailed) {
			return fault.Conflict("concurrent_update", "another ring is in progress")
		}
		return err
	}
	patients, err := h.connsOn(ctx, PatientConnsPK(examID))
	if err != nil {
		return err
	}
	for _, id := range patients {
		h.send(ctx, id, Out{Type: TypeRing, ExamID: examID, From: roleProvider, Attempt: rg.Unanswered})
	}
	h.send(ctx, c.ID, Out{Type: TypeRing, ExamID: examID, Role: roleProvider, Attempt: rg.Unanswered})
	return nil
}

func (h *Handler) noAnswer(ctx context.Context, c conn, examID string) error {
	present, err := h.held(ctx, c, examID)
	if err != nil {
		return err
	}
	if present {
		return fault.Conflict("patient_present", "the patient is in the call")
	}
	rg, err := h.loadRings(ctx, examID)
	if err != nil {
		return err
	}
	e, err := h.Exams.NoShow(ctx, c.ProviderID, examID, rg.Unanswered)
	if err != nil {
		return err
	}
	out := Out{Type: TypeRing, ExamID: examID, Action: ActionNoAnswer, Status: string(e.Status), Outcome: string(e.Outcome), Attempt: rg.Unanswered}
	h.send(ctx, c.ID, out)
	patients, err := h.connsOn(ctx, PatientConnsPK(examID))
	if err != nil {
		return err
	}
	for _, id := range patients {
		h.send(ctx, id, Out{Type: TypeLeave, ExamID: examID, From: roleProvider, Reason: string(exam.NotApplicable)})
	}
	if c.Room == examID {
		return h.leave(ctx, c, examID)
	}
	return nil
}

// tellOthers sends msg to every member of the room but skip.
func (h *Handler) tellOthers(ctx context.Context, examID, skip string, msg Out) {
	ms, err := h.members(ctx, examID)
	if err != nil {
		h.Log.ErrorContext(ctx, "room members", "error", err.Error())
		return
	}
	for _, m := range ms {
		if m.ConnID != skip {
			h.send(ctx, m.ConnID, msg)
		}
	}
}

// send delivers msg; a connection found gone is cleaned up.
func (h *Handler) send(ctx context.Context, connID string, msg Out) {
	b, err := json.Marshal(msg)
	if err != nil {
		h.Log.ErrorContext(ctx, "encode signal message", "error", err.Error())
		return
	}
	err = h.Conns.Send(ctx, connID, b)
	if errors.Is(err, connections.ErrGone) {
		c, lerr := h.loadConn(ctx, connID)
		if lerr == nil {
			// The socket died without a disconnect (a closed laptop, a lost
			// network): forget it and tell its room that party left, as a
			// disconnect would. drop removes the membership before telling
			// the room, so a peer found gone in turn ends the chain.
			if derr := h.drop(ctx, c, ReasonGone, true); derr != nil {
				h.Log.ErrorContext(ctx, "drop gone connection", "error", derr.Error())
			}
		} else {
			// No record (already dropped): make sure no membership lingers.
			if msg.ExamID != "" {
				_ = h.live().Delete(ctx, memberKey(msg.ExamID, connID), store.None)
			}
		}
		return
	}
	if err != nil {
		h.Log.WarnContext(ctx, "signal send failed", "type", msg.Type, "error", err.Error())
	}
}
