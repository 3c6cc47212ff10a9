package store

import "errors"

var (
	// ErrNotFound is returned by Get when no item has the key.
	ErrNotFound = errors.New("store: item not found")

	// ErrConditionFailed is returned when a write's condition does not hold:
	// the item exists where IfAbsent was asked, is missing where IfExists or
	// IfVersion was asked, or carries another version. Nothing was written.
	ErrConditionFailed = errors.New("store: condition failed")

	// ErrInvalidCursor is returned by Query for a cursor it did not issue.
	ErrInvalidCursor = errors.New("store: invalid cursor")

	// ErrTooManyOps is returned by Transact for more than MaxTransactOps
	// operations or for two operations on the same key.
	ErrTooManyOps = errors.New("store: transaction too large or repeats a key")
)
