package statelog

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
)

// MaxRecord is the longest record a file may hold; a length field above it
// is damage, not a record to allocate for.
const MaxRecord = 4 << 20

// frameHeader is the bytes before each record: CRC-32C, then length.
const frameHeader = 8

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// AppendFrame appends rec to dst as one framed record: the CRC-32C of the
// length field and the record, the length (both little-endian uint32),
// then the record.
func AppendFrame(dst, rec []byte) []byte {
	var h [frameHeader]byte
	binary.LittleEndian.PutUint32(h[4:], uint32(len(rec)))
	crc := crc32.Update(0, castagnoli, h[4:])
	binary.LittleEndian.PutUint32(h[:4], crc32.Update(crc, castagnoli, rec))
	return append(append(dst, h[:]...), rec...)
}

// fileHeader is the first record of every file: the format, the kind of
// file and its number, so that a file renamed or copied into the wrong
// place is not replayed as another.
func fileHeader(kind byte, n uint64) []byte {
	rec := append([]byte(magic), formatVersion, kind)
	return binary.LittleEndian.AppendUint64(rec, n)
}

// Identifying bytes of the file header.
const (
	magic         = "chatauth state\n"
	formatVersion = 1
	kindSnapshot  = 'S'
	kindLog       = 'L'
)

// readFile calls apply with each record of the file after its header. It
// stops at the first record that is cut short or fails its checksum and
// says so in damage (with the offset where the whole records end); err is
// for a file that cannot be read at all.
func readFile(path string, kind byte, n uint64, apply func(rec []byte)) (records int, size int64, damage *Damage, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, 0, nil, err
	}
	size = st.Size()
	r := bufio.NewReaderSize(f, 1<<20)
	var (
		off int64
		hdr [frameHeader]byte
		buf []byte
	)
	first := true
	for {
		reason := ""
		_, err := io.ReadFull(r, hdr[:])
		switch {
		case err == io.EOF:
			if first {
				reason = "empty file, no header"
				break
			}
			return records, size, nil, nil
		case errors.Is(err, io.ErrUnexpectedEOF):
			reason = "record header cut short"
		case err != nil:
			return records, size, nil, err
		}
		var length uint32
		if reason == "" {
			length = binary.LittleEndian.Uint32(hdr[4:])
			if length == 0 || length > MaxRecord {
				reason = fmt.Sprintf("record length %d out of range", length)
			}
		}
		if reason == "" {
			if cap(buf) < int(length) {
				buf = make([]byte, length)
			}
			buf = buf[:length]
			if _, err := io.ReadFull(r, buf); errors.Is(err, io.ErrUnexpectedEOF) || err == io.EOF {
				reason = "record cut short"
			} else if err != nil {
				return records, size, nil, err
			}
		}
		if reason == "" {
			crc := crc32.Update(crc32.Update(0, castagnoli, hdr[4:]), castagnoli, buf)
			if crc != binary.LittleEndian.Uint32(hdr[:4]) {
				reason = "checksum mismatch"
			}
		}
		if reason == "" && first && string(buf) != string(fileHeader(kind, n)) {
			reason = "not the file its name says (bad header)"
		}
		if reason != "" {
			return records, size, &Damage{File: path, Offset: off, Skipped: size - off, Reason: reason}, nil
		}
		if !first {
			apply(buf)
			records++
		}
		first = false
		off += frameHeader + int64(length)
	}
}
