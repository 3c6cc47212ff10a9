package connections_test

import (
	"context"
	"errors"
	"testing"

	"github.com/goodfaith/goodfaith/internal/connections"
)

func TestHubDeliversAndReportsGone(t *testing.T) {
	var h connections.Hub
	ctx := context.Background()
	if err := h.Send(ctx, "nobody", []byte("x")); !errors.Is(err, connections.ErrGone) {
		t.Fatalf("unknown connection: %v", err)
	}
	var got []string
	h.Add("a", func(_ context.Context, m []byte) error { got = append(got, string(m)); return nil })
	h.Add("broken", func(context.Context, []byte) error { return errors.New("socket closed") })
	if err := h.Send(ctx, "a", []byte("hi")); err != nil || len(got) != 1 || got[0] != "hi" {
		t.Fatalf("send: %v %v", err, got)
	}
	if err := h.Send(ctx, "broken", []byte("hi")); !errors.Is(err, connections.ErrGone) {
		t.Fatalf("failed socket: %v", err)
	}
	if h.Len() != 1 {
		t.Fatalf("a failed socket stays registered: %d", h.Len())
	}
	h.Remove("a")
	if err := h.Send(ctx, "a", []byte("x")); !errors.Is(err, connections.ErrGone) {
		t.Fatalf("removed connection: %v", err)
	}
}
