package pso

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/ledongthuc/pdf"
)

// ErrNoSignedOrder is returned by ExtractJWS for a PDF that does not carry
// a signed order: not a PDF, or no attachment named AttachmentName.
var ErrNoSignedOrder = errors.New("pso: the PDF carries no signed order (" + AttachmentName + ")")

// maxJWSBytes bounds an attached JWS (a PSO is a few KiB).
const maxJWSBytes = 64 << 10

// ExtractJWS returns the signed order attached to a PSO's PDF. The PDF is
// untrusted input: a malformed file is reported, never a crash.
func ExtractJWS(pdfBytes []byte) (jws string, err error) {
	defer func() {
		if recover() != nil { // the reader panics on some malformed files
			jws, err = "", fmt.Errorf("%w: the file is not a readable PDF", ErrNoSignedOrder)
		}
	}()
	r, err := pdf.NewReader(bytes.NewReader(pdfBytes), int64(len(pdfBytes)))
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNoSignedOrder, err)
	}
	names := r.Trailer().Key("Root").Key("Names").Key("EmbeddedFiles").Key("Names")
	for i := 0; i+1 < names.Len(); i += 2 {
		spec := names.Index(i + 1)
		if name := spec.Key("UF").Text(); name != AttachmentName {
			continue
		}
		rc := spec.Key("EF").Key("F").Reader()
		b, err := io.ReadAll(io.LimitReader(rc, maxJWSBytes+1))
		rc.Close()
		if err != nil || len(b) > maxJWSBytes {
			return "", fmt.Errorf("%w: the attachment is unreadable or too large", ErrNoSignedOrder)
		}
		return string(b), nil
	}
	return "", ErrNoSignedOrder
}
