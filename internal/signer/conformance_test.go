package signer_test

import (
	"path/filepath"
	"testing"

	"github.com/goodfaith/goodfaith/internal/signer"
	"github.com/goodfaith/goodfaith/internal/signer/signertest"
)

func TestFileKeyConformance(t *testing.T) {
	key, err := signer.LoadOrCreateFileKey(filepath.Join(t.TempDir(), "key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	signertest.Run(t, key)
}
