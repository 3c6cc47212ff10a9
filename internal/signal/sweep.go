package signal

import (
	"context"
	"errors"
	"fmt"

	"github.com/goodfaith/goodfaith/internal/store"
)

// sweepPage bounds one query page of the connections sweep.
const sweepPage = 200

// SweepConnections drops every connection record past its expiry
// (ConnTTL after it connected) whose disconnect was never seen: its room
// membership goes, its room is told the party left (reason expired) when
// the handler has a Conns to tell it through, and a provider left without
// a connection goes offline. DynamoDB's TTL deletes such records too, but
// lazily (often days later) and without any of those consequences, so the
// scheduled sweep (every minute, with the claim sweeps) does it. It is
// idempotent and safe to run beside live traffic and another sweep: a
// record already dropped is skipped. It returns how many it dropped.
func (h *Handler) SweepConnections(ctx context.Context) (int, error) {
	n := 0
	var errs []error
	now := h.now()
	for _, pk := range []string{PatientsConnectedPK, ProvidersConnectedPK} {
		q := store.Query{Index: store.ByGSI2, PK: pk, Limit: sweepPage}
		for {
			page, err := h.live().Query(ctx, q)
			if err != nil {
				return n, errors.Join(append(errs, err)...)
			}
			done := false
			for _, it := range page.Items {
				if !it.Expired(now) {
					// Patients are sorted by expiry: the rest are live.
					done = pk == PatientsConnectedPK
					if done {
						break
					}
					continue
				}
				c, err := connFrom(it)
				if err != nil {
					errs = append(errs, fmt.Errorf("connection record %s: %w", it.PK, err))
					continue
				}
				if err := h.drop(ctx, c, ReasonExpired, h.Conns != nil); err != nil {
					errs = append(errs, fmt.Errorf("connection %s: %w", c.ID, err))
					continue
				}
				n++
			}
			if done || page.Cursor == "" {
				break
			}
			q.Cursor = page.Cursor
		}
	}
	return n, errors.Join(errs...)
}
