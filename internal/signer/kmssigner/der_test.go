package kmssigner_test

import (
	"encoding/asn1"
	"math/big"
	"testing"

	"github.com/goodfaith/goodfaith/internal/signer/kmssigner"
)

func asn1Sig(r, s *big.Int) []byte {
	b, err := asn1.Marshal(struct{ R, S *big.Int }{r, s})
	if err != nil {
		panic(err)
	}
	return b
}

// TestParseDERKeepsLeadingZeros: r and s shorter than 32 bytes (one in 256
// signatures) must be left-padded, never shifted.
func TestParseDERKeepsLeadingZeros(t *testing.T) {
	r, s := big.NewInt(1), new(big.Int).Lsh(big.NewInt(1), 200)
	gr, gs, err := kmssigner.ParseDER(asn1Sig(r, s))
	if err != nil || gr.Cmp(r) != 0 || gs.Cmp(s) != 0 {
		t.Fatalf("ParseDER = %v %v %v", gr, gs, err)
	}
}
