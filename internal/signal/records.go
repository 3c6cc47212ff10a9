package signal

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/goodfaith/goodfaith/internal/store"
)

// ConnTTL bounds how long a connection record lives if its disconnect is
// never seen (API Gateway closes WebSocket connections after 2 hours).
const ConnTTL = 3 * time.Hour

// conn is one open WebSocket connection.
type conn struct {
	ID          string    `json:"id"`
	Role        string    `json:"role"` // patient | provider
	ExamID      string    `json:"exam_id,omitempty"`
	ClinicID    string    `json:"clinic_id,omitempty"`
	ProviderID  string    `json:"provider_id,omitempty"`
	Room        string    `json:"room,omitempty"` // the exam whose room it is in
	ConnectedAt time.Time `json:"connected_at"`
	version     int64
}

func connKey(id string) store.Key { return store.Key{PK: "WSCONN#" + id, SK: "WSCONN"} }

// ProviderConnsPK lists a provider's connections on GSI1.
func ProviderConnsPK(providerID string) string { return "WSPROV#" + providerID }

// PatientConnsPK lists the connections of an exam's patient on GSI1.
func PatientConnsPK(examID string) string { return "WSEXAM#" + examID }

// ProvidersConnectedPK lists every provider connection on GSI2 (sorted by
// provider), to ring the online ones; the connections sweep reads it too.
const ProvidersConnectedPK = "WSPROVIDERS"

// PatientsConnectedPK lists every patient connection on GSI2, sorted by
// expiry, for the connections sweep.
const PatientsConnectedPK = "WSPATIENTS"

func roomPK(examID string) string { return "ROOM#" + examID }

func memberKey(examID, connID string) store.Key {
	return store.Key{PK: roomPK(examID), SK: "MEMBER#" + connID}
}

func ringsKey(examID string) store.Key { return store.Key{PK: roomPK(examID), SK: "RINGS"} }

func (c conn) item(version int64) store.Item {
	data, _ := json.Marshal(c) // plain strings and a time
	k := connKey(c.ID)
	it := store.Item{PK: k.PK, SK: k.SK, Version: version, Data: data, ExpiresAt: c.ConnectedAt.Add(ConnTTL), GSI1SK: c.ID}
	if c.Role == rolePatient {
		it.GSI1PK = PatientConnsPK(c.ExamID)
		it.GSI2PK, it.GSI2SK = PatientsConnectedPK, store.SortableTime(it.ExpiresAt)+"#"+c.ID
	} else {
		it.GSI1PK = ProviderConnsPK(c.ProviderID)
		it.GSI2PK, it.GSI2SK = ProvidersConnectedPK, c.ProviderID+"#"+c.ID
	}
	return it
}

func connFrom(it store.Item) (conn, error) {
	var c conn
	if err := json.Unmarshal(it.Data, &c); err != nil {
		return conn{}, err
	}
	c.version = it.Version
	return c, nil
}

// member is one connection in a room.
type member struct {
	ConnID   string    `json:"conn_id"`
	Role     string    `json:"role"`
	JoinedAt time.Time `json:"joined_at"`
}

func (m member) item(examID string) store.Item {
	data, _ := json.Marshal(m)
	k := memberKey(examID, m.ConnID)
	return store.Item{PK: k.PK, SK: k.SK, Version: 1, Data: data, ExpiresAt: m.JoinedAt.Add(ConnTTL)}
}

// rings counts the provider's unanswered rings of the patient.
type rings struct {
	ProviderID string    `json:"provider_id"`
	Unanswered int       `json:"unanswered"`
	LastAt     time.Time `json:"last_at"`
	version    int64
}

func (h *Handler) loadConn(ctx context.Context, id string) (conn, error) {
	it, err := h.live().Get(ctx, connKey(id))
	if errors.Is(err, store.ErrNotFound) || (err == nil && it.Expired(h.now())) {
		return conn{}, ErrUnknownConnection
	}
	if err != nil {
		return conn{}, err
	}
	return connFrom(it)
}

func (h *Handler) members(ctx context.Context, examID string) ([]member, error) {
	page, err := h.live().Query(ctx, store.Query{Index: store.Primary, PK: roomPK(examID), SKPrefix: "MEMBER#", Limit: 50})
	if err != nil {
		return nil, err
	}
	now := h.now()
	out := make([]member, 0, len(page.Items))
	for _, it := range page.Items {
		if it.Expired(now) {
			continue
		}
		var m member
		if err := json.Unmarshal(it.Data, &m); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// connsOn lists the live connection ids on a GSI1 partition.
func (h *Handler) connsOn(ctx context.Context, pk string) ([]string, error) {
	page, err := h.live().Query(ctx, store.Query{Index: store.ByGSI1, PK: pk, Limit: 100})
	if err != nil {
		return nil, err
	}
	now := h.now()
	var out []string
	for _, it := range page.Items {
		if !it.Expired(now) {
			out = append(out, it.GSI1SK)
		}
	}
	return out, nil
}

func (h *Handler) loadRings(ctx context.Context, examID string) (rings, error) {
	it, err := h.live().Get(ctx, ringsKey(examID))
	if errors.Is(err, store.ErrNotFound) {
		return rings{}, nil
	}
	if err != nil {
		return rings{}, err
	}
	var r rings
	if err := json.Unmarshal(it.Data, &r); err != nil {
		return rings{}, err
	}
	r.version = it.Version
	return r, nil
}

func (h *Handler) saveRings(ctx context.Context, examID string, r rings) error {
	data, _ := json.Marshal(r)
	k := ringsKey(examID)
	cond := store.IfAbsent
	if r.version > 0 {
		cond = store.IfVersion(r.version)
	}
	return h.live().Put(ctx, store.Item{PK: k.PK, SK: k.SK, Version: r.version + 1, Data: data, ExpiresAt: h.now().Add(ConnTTL)}, cond)
}
