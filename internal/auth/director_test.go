package auth

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/goodfaith/goodfaith/internal/clock"
)

func TestDirectorTokens(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC))
	d, err := NewDevIssuer(DevIssuerConfig{Dir: t.TempDir(), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	dv, err := d.DirectorVerifier()
	if err != nil {
		t.Fatal(err)
	}
	pv, err := d.Verifier()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tok, err := d.MintDirector("md_c", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	p, err := dv.Verify(ctx, tok)
	if err != nil || p.Role != RoleDirector || p.DirectorID != "md_c" || p.ProviderID != "" || p.ClinicID != "" {
		t.Fatalf("director token: %+v %v", p, err)
	}
	// A director's token is not a provider's, and a provider's not a director's.
	if _, err := pv.Verify(ctx, tok); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("director token accepted as a provider's: %v", err)
	}
	prov, _ := d.Mint("prov_tx_md", time.Hour)
	if _, err := dv.Verify(ctx, prov); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("provider token accepted as a director's: %v", err)
	}
	// Expiry by the injected clock.
	clk.Advance(time.Hour + Leeway + time.Second)
	if _, err := dv.Verify(ctx, tok); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("expired director token accepted: %v", err)
	}
	// Another issuer's key is refused.
	other, _ := NewDevIssuer(DevIssuerConfig{Dir: t.TempDir(), Clock: clk})
	forged, _ := other.MintDirector("md_c", time.Hour)
	if _, err := dv.Verify(ctx, forged); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("other issuer's token accepted: %v", err)
	}
	if _, err := d.MintDirector("bad id", time.Hour); err == nil {
		t.Fatal("minted a token for a malformed id")
	}
}
