// Package presence records which providers are online. A provider's
// console refreshes its presence; one that goes silent for TTL counts as
// offline, so a closed laptop never keeps receiving video rings.
package presence

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/store"
)

// TTL is how long a presence lasts without a refresh.
const TTL = 2 * time.Minute

// Status is a provider's presence.
type Status struct {
	ProviderID string    `json:"provider_id"`
	Online     bool      `json:"online"`
	UpdatedAt  time.Time `json:"updated_at"`
	ExpiresAt  time.Time `json:"expires_at"`
}

func key(providerID string) store.Key { return store.Key{PK: "PRESENCE#" + providerID, SK: "PRESENCE"} }

// Set records a provider online or offline.
func Set(ctx context.Context, s store.Store, clk clock.Clock, providerID string, online bool) (Status, error) {
	now := clk.Now()
	st := Status{ProviderID: providerID, Online: online, UpdatedAt: now, ExpiresAt: now.Add(TTL)}
	data, err := json.Marshal(st)
	if err != nil {
		return Status{}, err
	}
	k := key(providerID)
	it := store.Item{PK: k.PK, SK: k.SK, Version: 1, ExpiresAt: st.ExpiresAt, Data: data}
	if online {
		it.GSI1PK, it.GSI1SK = "PRESENCE#ONLINE", providerID
	}
	return st, s.Put(ctx, it, store.None)
}

// Online reports whether a provider is online now.
func Online(ctx context.Context, s store.Store, clk clock.Clock, providerID string) (bool, error) {
	it, err := s.Get(ctx, key(providerID))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var st Status
	if err := json.Unmarshal(it.Data, &st); err != nil {
		return false, err
	}
	return st.Online && clk.Now().Before(st.ExpiresAt), nil
}

// OnlineNow returns the providers online now (a refreshed presence that has
// not expired), for dispatchers deciding whom to tell.
func OnlineNow(ctx context.Context, s store.Store, clk clock.Clock) (map[string]bool, error) {
	now := clk.Now()
	out := map[string]bool{}
	q := store.Query{Index: store.ByGSI1, PK: "PRESENCE#ONLINE", Limit: store.MaxQueryLimit}
	for {
		page, err := s.Query(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, it := range page.Items {
			var st Status
			if err := json.Unmarshal(it.Data, &st); err != nil {
				return nil, err
			}
			if st.Online && now.Before(st.ExpiresAt) {
				out[st.ProviderID] = true
			}
		}
		if page.Cursor == "" {
			return out, nil
		}
		q.Cursor = page.Cursor
	}
}
