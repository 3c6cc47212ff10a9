package boltstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/goodfaith/goodfaith/internal/store"
)

// The byte layouts below are the file format; doc.go describes them. A
// change to any of them needs a new record or format version, because files
// written by older builds must stay readable.

const (
	// itemRecordV1 has the keys of GSI1 and GSI2; itemRecordV2 adds GSI3's.
	// An item without GSI3 keys is still written as version 1, so that
	// rewriting an item as it was leaves its record (and the change feed)
	// as they were in files from before GSI3.
	itemRecordV1   = 1
	itemRecordV2   = 2
	changeRecordV1 = 1

	hasExpiry = 1 << 0

	changeHasOld = 1 << 0
	changeHasNew = 1 << 1
)

var errCorrupt = errors.New("boltstore: corrupt record")

// appendComponent appends s as one component of an ordered key: NUL bytes
// become 0x00 0xFF and the component ends with 0x00 0x01. Concatenated
// components then sort as the tuple of strings sorts, byte-wise, and no
// component can run into the next (so "a"+"bc" never meets "ab"+"c").
func appendComponent(b []byte, s string) []byte {
	b = appendEscaped(b, s)
	return append(b, 0x00, 0x01)
}

// appendEscaped appends s escaped but unterminated: the encoding of every
// string starting with s starts with it, which is how a sort-key prefix
// becomes a key prefix.
func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == 0x00 {
			b = append(b, 0x00, 0xFF)
		} else {
			b = append(b, s[i])
		}
	}
	return b
}

// readComponent reads one component written by appendComponent.
func readComponent(b []byte) (string, []byte, error) {
	var out []byte
	for i := 0; i < len(b); i++ {
		if b[i] != 0x00 {
			out = append(out, b[i])
			continue
		}
		if i+1 >= len(b) {
			return "", nil, errCorrupt
		}
		switch b[i+1] {
		case 0x01:
			return string(out), b[i+2:], nil
		case 0xFF:
			out = append(out, 0x00)
			i++
		default:
			return "", nil, errCorrupt
		}
	}
	return "", nil, errCorrupt
}

// itemKey is the items bucket's key for k, and the value of index entries.
func itemKey(k store.Key) []byte {
	return appendComponent(appendComponent(make([]byte, 0, len(k.PK)+len(k.SK)+4), k.PK), k.SK)
}

func decodeItemKey(b []byte) (store.Key, error) {
	pk, rest, err := readComponent(b)
	if err != nil {
		return store.Key{}, err
	}
	sk, rest, err := readComponent(rest)
	if err != nil || len(rest) != 0 {
		return store.Key{}, errCorrupt
	}
	return store.Key{PK: pk, SK: sk}, nil
}

// indexKey orders an index by partition, then sort key, then the item's
// table key, which keeps entries with equal index keys apart and in a
// stable order for paging.
func indexKey(pk, sk string, item store.Key) []byte {
	b := appendComponent(nil, pk)
	b = appendComponent(b, sk)
	b = appendComponent(b, item.PK)
	return appendComponent(b, item.SK)
}

// expiryKey orders the expiry index by time, then item.
func expiryKey(at time.Time, item store.Key) []byte {
	b := binary.BigEndian.AppendUint64(nil, sortableSeconds(at.Unix()))
	return append(b, itemKey(item)...)
}

// sortableSeconds maps signed seconds onto unsigned ones in the same order.
func sortableSeconds(s int64) uint64 { return uint64(s) ^ (1 << 63) }

func secondsFromSortable(u uint64) int64 { return int64(u ^ (1 << 63)) }

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// changeID names a change by its sequence number; zero padding keeps IDs in
// commit order when compared as strings.
func changeID(seq uint64) string { return fmt.Sprintf("%020d", seq) }

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// encodeItem writes an item record: version 2 if the item has GSI3 keys,
// version 1 otherwise. ExpiresAt keeps whole seconds, as DynamoDB's TTL
// attribute does.
func encodeItem(it store.Item) []byte {
	b := make([]byte, 0, 32+len(it.PK)+len(it.SK)+len(it.GSI1PK)+len(it.GSI1SK)+len(it.GSI2PK)+len(it.GSI2SK)+len(it.GSI3PK)+len(it.GSI3SK)+len(it.Data))
	keys := []string{it.PK, it.SK, it.GSI1PK, it.GSI1SK, it.GSI2PK, it.GSI2SK}
	if it.GSI3PK == "" && it.GSI3SK == "" {
		b = append(b, itemRecordV1)
	} else {
		b = append(b, itemRecordV2)
		keys = append(keys, it.GSI3PK, it.GSI3SK)
	}
	for _, s := range keys {
		b = appendString(b, s)
	}
	b = binary.AppendVarint(b, it.Version)
	if it.ExpiresAt.IsZero() {
		b = append(b, 0)
	} else {
		b = append(b, hasExpiry)
		b = binary.AppendVarint(b, it.ExpiresAt.Unix())
	}
	b = binary.AppendUvarint(b, uint64(len(it.Data)))
	return append(b, it.Data...)
}

// reader reads a record, remembering the first error.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail() {
	if r.err == nil {
		r.err = errCorrupt
	}
	r.b = nil
}

func (r *reader) byte() byte {
	if len(r.b) < 1 {
		r.fail()
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

// bytes returns a length-prefixed field, still pointing into the record.
func (r *reader) bytes() []byte {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail()
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) string() string { return string(r.bytes()) }

// decodeItem reads an item record. The item owns its memory: records read
// from bbolt point into the memory map, valid only during the transaction.
func decodeItem(b []byte) (store.Item, error) {
	r := reader{b: b}
	v := r.byte()
	if r.err == nil && v != itemRecordV1 && v != itemRecordV2 {
		return store.Item{}, fmt.Errorf("boltstore: item record version %d, this build reads %d and %d", v, itemRecordV1, itemRecordV2)
	}
	var it store.Item
	it.PK, it.SK = r.string(), r.string()
	it.GSI1PK, it.GSI1SK = r.string(), r.string()
	it.GSI2PK, it.GSI2SK = r.string(), r.string()
	if v == itemRecordV2 {
		it.GSI3PK, it.GSI3SK = r.string(), r.string()
	}
	it.Version = r.varint()
	switch r.byte() {
	case 0:
	case hasExpiry:
		it.ExpiresAt = time.Unix(r.varint(), 0).UTC()
	default:
		r.fail()
	}
	if data := r.bytes(); len(data) > 0 {
		it.Data = bytes.Clone(data)
	}
	if r.err == nil && len(r.b) != 0 {
		r.fail()
	}
	if r.err != nil {
		return store.Item{}, r.err
	}
	return it, nil
}

// encodeChange writes a change record, version 1.
func encodeChange(at time.Time, oldRecord, newRecord []byte) []byte {
	b := make([]byte, 0, 16+len(oldRecord)+len(newRecord))
	b = append(b, changeRecordV1)
	b = binary.AppendVarint(b, at.UnixNano())
	var flags byte
	if oldRecord != nil {
		flags |= changeHasOld
	}
	if newRecord != nil {
		flags |= changeHasNew
	}
	b = append(b, flags)
	if oldRecord != nil {
		b = binary.AppendUvarint(b, uint64(len(oldRecord)))
		b = append(b, oldRecord...)
	}
	if newRecord != nil {
		b = binary.AppendUvarint(b, uint64(len(newRecord)))
		b = append(b, newRecord...)
	}
	return b
}

// changeTime reads only the commit time of a change record, for pruning.
func changeTime(b []byte) (time.Time, error) {
	r := reader{b: b}
	if v := r.byte(); r.err == nil && v != changeRecordV1 {
		return time.Time{}, fmt.Errorf("boltstore: change record version %d, this build reads %d", v, changeRecordV1)
	}
	at := r.varint()
	if r.err != nil {
		return time.Time{}, r.err
	}
	return time.Unix(0, at).UTC(), nil
}

func decodeChange(seq uint64, b []byte) (store.Change, error) {
	at, err := changeTime(b)
	if err != nil {
		return store.Change{}, err
	}
	r := reader{b: b[1:]}
	r.varint()
	flags := r.byte()
	if flags&^(changeHasOld|changeHasNew) != 0 || flags == 0 {
		r.fail()
	}
	ch := store.Change{ID: changeID(seq), At: at}
	image := func() *store.Item {
		rec := r.bytes()
		if r.err != nil {
			return nil
		}
		it, err := decodeItem(rec)
		if err != nil {
			r.err = err
			return nil
		}
		return &it
	}
	if flags&changeHasOld != 0 {
		ch.Old = image()
	}
	if flags&changeHasNew != 0 {
		ch.New = image()
	}
	if r.err == nil && len(r.b) != 0 {
		r.fail()
	}
	if r.err != nil {
		return store.Change{}, r.err
	}
	if ch.New != nil {
		ch.Key = ch.New.Key()
	} else {
		ch.Key = ch.Old.Key()
	}
	return ch, nil
}
