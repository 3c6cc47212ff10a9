package blob

import "strings"

// ValidKey reports whether key is acceptable to every adapter: non-empty,
// at most 512 bytes, of [A-Za-z0-9._/-], no leading "/" and no ".." segment.
func ValidKey(key string) bool {
	if key == "" || len(key) > 512 || strings.HasPrefix(key, "/") {
		return false
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	for _, r := range key {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '/', r == '-':
		default:
			return false
		}
	}
	return true
}
