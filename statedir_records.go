package chatauth

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/chatauth/chatauth/internal/seal"
	"github.com/chatauth/chatauth/internal/siphash"
	"github.com/chatauth/chatauth/internal/statelog"
	"golang.org/x/oauth2"
)

// The records of a state directory: a kind byte, then fixed-size
// little-endian fields. Logs and snapshots hold the same kinds; a
// snapshot's revocation and one-time id records carry many entries each.
const (
	recKey         = 'k' // the SipHash key: 16 bytes
	recRevocations = 'r' // n × (id hash, user hash, issued, expires): 24 bytes each
	recUserCut     = 'c' // user hash, before, keepAfter, expires, then the kept token id
	recEveryone    = 'e' // the store-wide cut: before, expires
	recUsed        = 'u' // n × (one-time id hash, expires): 12 bytes each
	recToken       = 't' // identifier, provider (uvarint lengths), then the sealed token
	recDeleteToken = 'd' // identifier, provider
)

// Entry sizes, and how many entries one snapshot record carries.
const (
	revocationBytes = 24
	usedBytes       = 12
	entriesPerChunk = 2048
)

var le = binary.LittleEndian

func appendKeyRecord(dst []byte, k siphash.Key) []byte {
	return append(append(dst, recKey), k.Bytes()...)
}

func appendRevocationEntry(dst []byte, k uint64, e revokedEntry) []byte {
	dst = le.AppendUint64(dst, k)
	dst = le.AppendUint64(dst, e.user)
	dst = le.AppendUint32(dst, e.issued)
	return le.AppendUint32(dst, e.expires)
}

func appendRevokeRecord(dst []byte, k uint64, e revokedEntry) []byte {
	return appendRevocationEntry(append(dst, recRevocations), k, e)
}

func appendCutRecord(dst []byte, user uint64, c userCut) []byte {
	dst = le.AppendUint64(append(dst, recUserCut), user)
	dst = le.AppendUint64(dst, uint64(c.before))
	dst = le.AppendUint64(dst, uint64(c.keepAfter))
	dst = le.AppendUint64(dst, uint64(c.expires))
	return append(dst, c.keep...)
}

func appendEveryoneRecord(dst []byte, c storeCut) []byte {
	dst = le.AppendUint64(append(dst, recEveryone), uint64(c.before))
	return le.AppendUint64(dst, uint64(c.expires))
}

func appendUsedEntry(dst []byte, k uint64, expires uint32) []byte {
	return le.AppendUint32(le.AppendUint64(dst, k), expires)
}

func appendUsedRecord(dst []byte, k uint64, expires uint32) []byte {
	return appendUsedEntry(append(dst, recUsed), k, expires)
}

// appendTokenKey is a token record's kind, identifier and provider, each
// name after its length, so that no two pairs give the same bytes.
func appendTokenKey(dst []byte, kind byte, identifier, provider string) []byte {
	dst = binary.AppendUvarint(append(dst, kind), uint64(len(identifier)))
	dst = binary.AppendUvarint(append(dst, identifier...), uint64(len(provider)))
	return append(dst, provider...)
}

// sealedToken is what a token record seals: the fields memoryTokenStore
// keeps.
type sealedToken struct {
	AccessToken  string    `json:"access_token"`
	TokenType    string    `json:"token_type,omitempty"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	Expiry       time.Time `json:"expiry,omitzero"`
	ExpiresIn    int64     `json:"expires_in,omitempty"`
	IDToken      string    `json:"id_token,omitempty"`
}

// appendTokenRecord is the record of a saved token, sealed under the
// current secret and bound to its user and provider (the record's key
// bytes are the additional data).
func (d *StateDir) appendTokenRecord(dst []byte, identifier, provider string, tok *oauth2.Token) ([]byte, error) {
	st := sealedToken{AccessToken: tok.AccessToken, TokenType: tok.TokenType, RefreshToken: tok.RefreshToken,
		Expiry: tok.Expiry, ExpiresIn: tok.ExpiresIn}
	st.IDToken, _ = tok.Extra("id_token").(string)
	plain, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("chatauth: SaveToken: encoding: %w", err)
	}
	dst = appendTokenKey(dst, recToken, identifier, provider)
	sealed := seal.Seal(d.keys()[0], string(dst), plain)
	if len(dst)+len(sealed) > statelog.MaxRecord {
		return nil, fmt.Errorf("chatauth: SaveToken: token of %d bytes is larger than a state directory record (%d)", len(plain), statelog.MaxRecord)
	}
	return append(dst, sealed...), nil
}

// appendTokenSnapshot appends the tokens, oldest first, as framed records.
func (d *StateDir) appendTokenSnapshot(dst []byte, toks []storedToken) ([]byte, error) {
	var rec []byte
	for _, st := range toks {
		tok := st.tok
		t := &tok
		if st.idToken != "" {
			t = tok.WithExtra(map[string]any{"id_token": st.idToken})
		}
		var err error
		if rec, err = d.appendTokenRecord(rec[:0], st.key.identifier, st.key.provider, t); err != nil {
			return nil, err
		}
		dst = statelog.AppendFrame(dst, rec)
	}
	return dst, nil
}

// all is a copy of every token, oldest saved first.
func (s *memoryTokenStore) all() []storedToken {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]storedToken, 0, len(s.tokens))
	for el := s.order.Front(); el != nil; el = el.Next() {
		out = append(out, *el.Value.(*storedToken))
	}
	return out
}

// appendSnapshot appends the live state as framed records, and returns
// the earliest expiry (Unix s) among them: once it passes, a new snapshot
// would be smaller.
func (s *memoryRevocationStore) appendSnapshot(dst []byte) ([]byte, int64) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	nowSec := s.now().Unix()
	var first int64
	note := func(expires int64) {
		if first == 0 || expires < first {
			first = expires
		}
	}
	if s.everyone.before > 0 && nowSec < s.everyone.expires {
		dst = statelog.AppendFrame(dst, appendEveryoneRecord(nil, s.everyone))
		note(s.everyone.expires)
	}
	chunk := make([]byte, 0, 1+entriesPerChunk*revocationBytes)
	flush := func(kind byte) {
		if len(chunk) > 1 {
			dst = statelog.AppendFrame(dst, chunk)
		}
		chunk = append(chunk[:0], kind)
	}
	flush(recRevocations)
	for k, e := range s.revoked {
		if nowSec >= int64(e.expires) {
			continue
		}
		note(int64(e.expires))
		if chunk = appendRevocationEntry(chunk, k, e); len(chunk) == cap(chunk) {
			flush(recRevocations)
		}
	}
	flush(recUsed)
	for k, exp := range s.used {
		if nowSec >= int64(exp) {
			continue
		}
		note(int64(exp))
		if chunk = appendUsedEntry(chunk, k, exp); len(chunk)+usedBytes > cap(chunk) {
			flush(recUsed)
		}
	}
	flush(recUsed)
	for user, c := range s.users {
		if nowSec < c.expires {
			note(c.expires)
			dst = statelog.AppendFrame(dst, appendCutRecord(chunk[:0], user, c))
		}
	}
	return dst, first
}

// mergeEveryone widens the store-wide cut.
func (s *memoryRevocationStore) mergeEveryone(c storeCut) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.everyone = storeCut{before: max(s.everyone.before, c.before), expires: max(s.everyone.expires, c.expires)}
}

// held is the number of revocations held one by one.
func (s *memoryRevocationStore) held() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.revoked)
}

// replay applies the records of a state directory at start-up.
type replay struct {
	d         *StateDir
	nowSec    int64
	key       *siphash.Key
	hashed    int // records with hashes, read before any key
	lost      int // records not understood: revocations may be missing
	badTokens int // tokens that did not open
	expired   int // entries dropped as expired: the next snapshot is smaller
}

// apply applies one record; expired entries are dropped.
func (r *replay) apply(rec []byte) {
	kind, body := rec[0], rec[1:]
	if r.key == nil && kind != recKey && kind != recToken && kind != recDeleteToken {
		r.hashed++
	}
	s, now := r.d.revs, time.Unix(r.nowSec, 0)
	switch {
	case kind == recKey:
		k, ok := siphash.KeyFromBytes(body)
		if !ok || (r.key != nil && *r.key != k) {
			r.lost++
			return
		}
		r.key = &k
	case kind == recRevocations && len(body) > 0 && len(body)%revocationBytes == 0:
		for b := body; len(b) > 0; b = b[revocationBytes:] {
			e := revokedEntry{user: le.Uint64(b[8:]), issued: le.Uint32(b[16:]), expires: le.Uint32(b[20:])}
			if r.nowSec < int64(e.expires) {
				s.add(le.Uint64(b), e, now)
			} else {
				r.expired++
			}
		}
	case kind == recUsed && len(body) > 0 && len(body)%usedBytes == 0:
		for b := body; len(b) > 0; b = b[usedBytes:] {
			if exp := le.Uint32(b[8:]); r.nowSec < int64(exp) {
				_, _ = s.useOnce(le.Uint64(b), exp, r.nowSec)
			}
		}
	case kind == recUserCut && len(body) >= 32:
		c := userCut{before: int64(le.Uint64(body[8:])), keepAfter: int64(le.Uint64(body[16:])),
			expires: int64(le.Uint64(body[24:])), keep: string(body[32:])}
		if r.nowSec < c.expires {
			s.cutUser(le.Uint64(body), c, r.nowSec)
		}
	case kind == recEveryone && len(body) == 16:
		if c := (storeCut{before: int64(le.Uint64(body)), expires: int64(le.Uint64(body[8:]))}); r.nowSec < c.expires {
			s.mergeEveryone(c)
		}
	case kind == recToken || kind == recDeleteToken:
		r.applyToken(kind, body)
	default:
		r.lost++
	}
}

// applyToken replays a saved or deleted token; one that does not open is
// dropped and counted.
func (r *replay) applyToken(kind byte, body []byte) {
	identifier, provider, sealed, ok := splitTokenKey(body)
	if !ok {
		r.badTokens++
		return
	}
	ctx := context.Background()
	if kind == recDeleteToken {
		_ = r.d.tokens.DeleteToken(ctx, identifier, provider)
		return
	}
	ad := string(appendTokenKey(nil, recToken, identifier, provider))
	plain, err := seal.Open(r.d.keys(), ad, string(sealed))
	var st sealedToken
	if err == nil {
		err = json.Unmarshal(plain, &st)
	}
	if err != nil {
		r.badTokens++
		return
	}
	tok := &oauth2.Token{AccessToken: st.AccessToken, TokenType: st.TokenType, RefreshToken: st.RefreshToken,
		Expiry: st.Expiry, ExpiresIn: st.ExpiresIn}
	if st.IDToken != "" {
		tok = tok.WithExtra(map[string]any{"id_token": st.IDToken})
	}
	_ = r.d.tokens.SaveToken(ctx, identifier, provider, tok)
}

// splitTokenKey reads the identifier and provider of a token record's
// body, and returns the rest.
func splitTokenKey(b []byte) (identifier, provider string, rest []byte, ok bool) {
	for _, name := range []*string{&identifier, &provider} {
		n, w := binary.Uvarint(b)
		if w <= 0 || n > uint64(len(b)-w) {
			return "", "", nil, false
		}
		*name, b = string(b[w:w+int(n)]), b[w+int(n):]
	}
	return identifier, provider, b, true
}
