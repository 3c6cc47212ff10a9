package blob

import "errors"

var (
	// ErrNotFound is returned when no object has the key.
	ErrNotFound = errors.New("blob: object not found")

	// ErrExists is returned by Put when the key already holds an object:
	// objects are written once.
	ErrExists = errors.New("blob: object already exists")

	// ErrRetained is returned by Delete before the object's retain-until date.
	ErrRetained = errors.New("blob: object is under retention")

	// ErrInvalidKey is returned for an empty key, or one with "..", a leading
	// "/" or characters outside [A-Za-z0-9._/-].
	ErrInvalidKey = errors.New("blob: invalid key")
)
