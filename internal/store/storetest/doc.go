// Package storetest is the conformance suite every store adapter passes.
//
// An adapter's test calls Run with a function that opens a fresh, empty
// store and its change feed:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) (store.Store, store.ChangeFeed) {
//			s := openEmptyStore(t) // closed by t.Cleanup
//			return s, s
//		})
//	}
//
// Every subtest opens its own store, so one adapter bug shows up in the
// subtests that exercise it rather than cascading through the rest.
//
// What the suite holds the adapters to, beyond the comments in package store:
//
//   - Items round-trip exactly: every key field, Version, ExpiresAt to the
//     second, and Data as opaque bytes (not necessarily UTF-8). A nil and an
//     empty Data are the same. A Put replaces the whole item; it does not
//     merge with the stored one.
//   - Writes with an empty PK or SK, or with an index partition key but no
//     index sort key, fail: DynamoDB refuses empty key attributes.
//   - Conditions see only the stored item: IfVersion(v) fails on a missing
//     item whatever v is (IfVersion(0) is not IfAbsent). Deleting a missing
//     item under None or IfAbsent succeeds and writes nothing.
//   - Expired items stay readable until the adapter removes them; the suite
//     never writes an ExpiresAt in the past so that it does not depend on
//     when the adapter's expiry sweep runs.
//   - Transact rejects, with ErrTooManyOps, more than MaxTransactOps ops or
//     two ops on the same key (a Check counts), and rejects an Op that does
//     not set exactly one of Put, Delete and Check. Keys are equal only when
//     both PK and SK are.
//   - Query pages hold at most Limit items and never hold an item twice or
//     lose one across pages. The last page may be empty (DynamoDB can hand
//     out a cursor that leads to no more items); every page before it has
//     a cursor. Items with equal index sort keys page correctly.
//   - Index queries may lag: the suite polls them for up to two seconds.
//   - The change feed starts a consumer it has never seen at the oldest
//     change it still holds, so changes written before the first Consume are
//     delivered. A change's ID is the same in every delivery and for every
//     consumer. Writes that fail, Checks, and deletes of missing items put
//     nothing on the feed; each write of a Transact does.
//
// The suite filters what it reads by the keys it wrote, so an adapter may
// keep its own bookkeeping records in the same table, and it makes no
// assertion about timing or about the adapter's clock beyond bounded waits.
package storetest
