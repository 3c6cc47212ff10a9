package blob

import (
	"fmt"
	"mime"
	"time"
)

// DefaultContentType is stored for an object put without a content type.
const DefaultContentType = "application/octet-stream"

// NormalizeContentType applies the default and refuses a type that is not
// a printable media type of at most 255 bytes: adapters send it back
// verbatim as a response header.
func NormalizeContentType(ct string) (string, error) {
	if ct == "" {
		return DefaultContentType, nil
	}
	if len(ct) > 255 {
		return "", fmt.Errorf("blob: content type longer than 255 bytes")
	}
	if _, _, err := mime.ParseMediaType(ct); err != nil {
		return "", fmt.Errorf("blob: invalid content type %q: %w", ct, err)
	}
	for _, r := range ct {
		if r < 0x20 || r > 0x7e {
			return "", fmt.Errorf("blob: invalid content type %q", ct)
		}
	}
	return ct, nil
}

// RetentionDate rounds t up to a whole second in UTC: S3 keeps retention
// dates to the second at best, and rounding up never shortens a retention.
func RetentionDate(t time.Time) time.Time {
	t = t.UTC()
	if r := t.Truncate(time.Second); !r.Equal(t) {
		return r.Add(time.Second)
	}
	return t
}
