package chatauth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"hash"
	"strings"
	"sync"

	"github.com/golang-jwt/jwt/v5"
)

// The fast path verifies the common token, HS256 with a plain header, in
// the same steps as golang-jwt but without its per-token overhead: the
// header is decoded once per distinct header text of a verified token
// (every token of a key has the same one), HMACs are pooled, and nothing
// is split into a slice.
// The claims are checked by golang-jwt's own Validator with the parser's
// options, so both paths accept exactly the same tokens; anything unusual
// (another algorithm, extra header fields) goes to golang-jwt's parser.

// errNotFast sends a token to the full parser.
var errNotFast = errors.New("not a fast-path token")

// strictBase64 decodes segments strictly, as golang-jwt does with
// WithStrictDecoding: one spelling per token, so that a revoked token
// named by its hash (Chainlit's, without jti) is not accepted again with
// other trailing bits in its signature.
var strictBase64 = base64.RawURLEncoding.Strict()

// fastHeader is a decoded header the fast path accepts.
type fastHeader struct {
	key []byte // the secret the kid names; nil: try every key
	ok  bool   // alg HS256 and nothing but typ and kid besides
}

// maxHeaderSegment bounds the header segment the fast path decodes: ours
// ({"alg","kid","typ"}) is 60 characters and Chainlit's 36; a longer one
// (whitespace, extra fields) goes to golang-jwt, which costs more but keeps
// nothing.
const maxHeaderSegment = 256

// maxKnownHeaders bounds the cache of header segments. Only the headers of
// tokens whose signature verified are kept, and a holder of the secret
// writes one or two (chatauth's with its kid, Chainlit's without).
const maxKnownHeaders = 16

// fastVerifier belongs to one keyring.
type fastVerifier struct {
	validator *jwt.Validator
	keys      *keyring
	headers   sync.Map // header segment -> fastHeader, of verified tokens only
	headersMu sync.Mutex
	nHeaders  int      // entries in headers, under headersMu
	macs      sync.Map // *byte of the key -> *sync.Pool of hash.Hash
}

func newFastVerifier(k *keyring, opts []jwt.ParserOption) *fastVerifier {
	return &fastVerifier{validator: jwt.NewValidator(opts...), keys: k}
}

// verify checks token into c, or returns errNotFast.
func (f *fastVerifier) verify(token string, c *tokenClaims) error {
	head, rest, ok := strings.Cut(token, ".")
	payload, sig, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 || strings.IndexByte(sig, '.') >= 0 || len(sig) != 43 || len(head) > maxHeaderSegment {
		return errNotFast
	}
	h, known := f.knownHeader(head)
	if !known {
		h = f.decodeHeader(head)
	}
	if !h.ok {
		return errNotFast
	}
	var want [32]byte
	if n, err := strictBase64.Decode(want[:], []byte(sig)); err != nil || n != 32 {
		return errNotFast
	}
	signed := token[:len(head)+1+len(payload)]
	if !f.signatureMatches(h.key, signed, want[:]) {
		return errNotFast // let golang-jwt say exactly why
	}
	if !known {
		f.rememberHeader(head, h)
	}
	raw, err := strictBase64.DecodeString(payload)
	if err != nil {
		return errNotFast
	}
	if err := c.UnmarshalJSON(raw); err != nil {
		return errNotFast
	}
	if err := f.validator.Validate(c); err != nil {
		return errNotFast
	}
	return nil
}

// knownHeader returns the verdict on a header segment seen before on a
// token that verified.
func (f *fastVerifier) knownHeader(seg string) (fastHeader, bool) {
	if v, ok := f.headers.Load(seg); ok {
		return v.(fastHeader), true
	}
	return fastHeader{}, false
}

// decodeHeader decides whether the fast path takes a header segment.
func (f *fastVerifier) decodeHeader(seg string) fastHeader {
	out := fastHeader{}
	raw, err := strictBase64.DecodeString(seg)
	if err == nil {
		// Names exactly as golang-jwt's header map holds them; duplicates
		// and crit go to the full parser, whose key function refuses them.
		h, err := parseJOSEHeader(raw)
		out.ok = err == nil && h.alg == jwt.SigningMethodHS256.Alg() && !h.crit && h.others == 0 &&
			(h.typ == nil || strings.EqualFold(*h.typ, "JWT"))
		if out.ok && h.kid != nil {
			out.key = f.keys.byID[*h.kid]
			out.ok = out.key != nil
		}
	}
	return out
}

// rememberHeader keeps the verdict on the header of a token whose
// signature verified, so that the next token of the same key skips the
// decoding. A forged token never gets here, so request input cannot grow
// the cache; the bound is for a secret holder writing unusual headers.
func (f *fastVerifier) rememberHeader(seg string, h fastHeader) {
	f.headersMu.Lock()
	defer f.headersMu.Unlock()
	if f.nHeaders >= maxKnownHeaders {
		return
	}
	if _, loaded := f.headers.LoadOrStore(seg, h); !loaded {
		f.nHeaders++
	}
}

// signatureMatches computes HMAC-SHA256 over signed with key (or each key
// of the ring when the header names none) and compares in constant time.
func (f *fastVerifier) signatureMatches(key []byte, signed string, want []byte) bool {
	if key != nil {
		return f.mac(key, signed, want)
	}
	for _, k := range f.keys.all.Keys {
		if f.mac(k.([]byte), signed, want) {
			return true
		}
	}
	return false
}

func (f *fastVerifier) mac(key []byte, signed string, want []byte) bool {
	p, _ := f.macs.LoadOrStore(&key[0], &sync.Pool{New: func() any { return hmac.New(sha256.New, key) }})
	pool := p.(*sync.Pool)
	m := pool.Get().(hash.Hash)
	m.Reset()
	m.Write([]byte(signed))
	var sum [32]byte
	ok := hmac.Equal(m.Sum(sum[:0]), want)
	pool.Put(m)
	return ok
}
