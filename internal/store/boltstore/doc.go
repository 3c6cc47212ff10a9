// Package boltstore is the embedded store adapter: the store port (items,
// conditional writes, transactions, three secondary indexes, a change feed)
// on one bbolt file, for the local server and small deployments.
//
// It behaves as the DynamoDB adapter does, which the storetest suite holds
// both to. Where this package could do better than DynamoDB it does not,
// so that code tried locally behaves the same in AWS: expired items stay
// readable until swept, change records are kept for 24 hours, keys and
// items obey DynamoDB's size limits, an index key without its sort key is
// refused, and a write that changes nothing adds no change.
//
// # Design
//
// Every write is one bbolt read-write transaction, and bbolt runs them one
// at a time. Conditions are checked against the stored item inside that
// transaction, so compare-and-set and Transact are atomic by construction.
// The same transaction updates the item, its index entries, its expiry
// entry and appends a change record, so indexes never lag (DynamoDB's may)
// and a committed write always has its change, a rolled-back one none.
//
// Buckets:
//
//	meta         "format" → "1", the file format; Open refuses any other
//	items        itemKey(PK, SK) → item record
//	gsi1, gsi2, gsi3  component(GSIxPK) component(GSIxSK) itemKey → itemKey
//	expiry       8-byte expiry second (sign bit flipped) itemKey → empty
//	changes      8-byte big-endian sequence → change record
//	checkpoints  consumer name → 8-byte sequence of the last change handled
//
// Open creates any missing bucket, so a file from before GSI3 gets an empty
// gsi3 bucket, which is right: its items are version 1 records, without
// GSI3 keys. (Domain records that should have GSI3 keys get them when
// rewritten; see the owning package.)
//
// Keys are built from components: a string with each 0x00 byte written as
// 0x00 0xFF, ended by 0x00 0x01. Concatenated components sort as the
// tuple of strings does byte-wise, which is DynamoDB's string order, and a
// sort-key prefix, escaped but not ended, is a key prefix; a query is a
// bbolt cursor walk over one prefix. Index entries end with the item's key
// so that items with equal index keys stay distinct and page in a stable
// order.
//
// # Records
//
// Integers are Go's encoding/binary varints (signed ones zig-zag), strings
// and byte fields a uvarint length then the bytes.
//
// Item record, version 1 (an item without GSI3 keys) or 2 (one with):
//
//	byte    1 or 2
//	string  PK, SK, GSI1PK, GSI1SK, GSI2PK, GSI2SK
//	string  GSI3PK, GSI3SK, only in version 2
//	varint  Version
//	byte    flags: 1 = has expiry
//	varint  ExpiresAt in Unix seconds, only if flagged (whole seconds, as
//	        DynamoDB's TTL attribute)
//	bytes   Data
//
// Change record, version 1:
//
//	byte    1
//	varint  commit time in Unix nanoseconds
//	byte    flags: 1 = old image, 2 = new image
//	bytes   old item record, if flagged
//	bytes   new item record, if flagged
//
// A change's ID is its sequence number, zero-padded to 20 digits. Changing
// any layout needs a new record version, read alongside the old.
//
// # Change feed
//
// Sequence numbers come from the changes bucket's NextSequence inside the
// write transaction, so their order is commit order. Consume reads up to a
// batch after the consumer's checkpoint, calls the handler, and stores the
// new checkpoint only after the handler succeeds; a failed batch is read
// again after a backoff doubling from 100ms to 5s. A consumer never seen
// before starts at the oldest change kept. Idle consumers wait on a channel
// that every commit with changes closes and replaces, with a slow poll as a
// safety net. Only one process can open the file, so every commit happens
// in this process and wakes its consumers.
//
// # Sweep
//
// A background sweep, at Open and then every minute, deletes items whose
// ExpiresAt has passed (found through the expiry bucket, a batch per
// transaction, each deletion on the change feed as DynamoDB's TTL
// deletions are in its stream) and prunes change records older than 24
// hours, as DynamoDB Streams does. A consumer stopped for longer than that
// misses changes, as it would in AWS.
//
// # Cursors
//
// A query cursor is base64url of a version byte, the index, the direction,
// the last key returned and a CRC-32 of those. Query refuses, with
// store.ErrInvalidCursor, a cursor that fails to decode, fails its
// checksum, or was issued for another index, direction, partition or
// sort-key prefix, or lies past the query's sort-key bound (SKAtMost).
package boltstore
