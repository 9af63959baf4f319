package chatauth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Token headers and payloads are read the way PyJWT (and so Chainlit)
// reads them, not the way encoding/json fills a struct: a member name
// matches only when spelled exactly ("EXP" is not exp), a name given twice
// refuses the token (RFC 7515 section 5.2, RFC 7519 section 4), and numbers
// in metadata keep their exact text. Both verification paths, the fast one
// and golang-jwt's parser, decode claims through tokenClaims.UnmarshalJSON.

// errDuplicateName refuses an object that names a member twice.
var errDuplicateName = errors.New("duplicate member name")

// walkObject reads the JSON object b member by member with dec's settings
// (UseNumber for claims): member calls back with each exact name and must
// consume its value from dec. A duplicate name, a value that is not an
// object, or data after it is an error.
func walkObject(b []byte, useNumber bool, member func(dec *json.Decoder, name string) error) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if useNumber {
		dec.UseNumber()
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return errors.New("not a JSON object")
	}
	// Few names recur in a token: a linear search in a small array beats a
	// map, and a map takes over for the rare token with many members.
	var small [16]string
	seen := small[:0]
	var many map[string]bool
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		name, _ := tok.(string)
		if many == nil && len(seen) == len(small) {
			many = make(map[string]bool, 2*len(small))
			for _, s := range seen {
				many[s] = true
			}
		}
		dup := false
		if many != nil {
			dup, many[name] = many[name], true
		} else {
			for _, s := range seen {
				if s == name {
					dup = true
					break
				}
			}
			seen = append(seen, name)
		}
		if dup {
			return fmt.Errorf("%w %q", errDuplicateName, name)
		}
		if err := member(dec, name); err != nil {
			return fmt.Errorf("member %q: %w", name, err)
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON object")
	}
	return nil
}

// skipValue consumes one JSON value without keeping it.
type skipValue struct{}

func (*skipValue) UnmarshalJSON([]byte) error { return nil }

// plainClaims is tokenClaims without its UnmarshalJSON: what
// encoding/json fills field by field.
type plainClaims tokenClaims

// UnmarshalJSON decodes a token payload strictly: exact claim names,
// duplicates refused, metadata numbers as json.Number (the metadata type
// sees to that). Unknown claims are skipped, as PyJWT does.
//
// encoding/json fills the struct in one pass, which is fast but matches
// names case-insensitively and keeps the last of two; a scan of the
// member names then confirms that every name was either exact or foreign
// to tokenClaims, and unique. Only a payload that spells a claim in
// another case or with escapes (or whose case-folded names made that pass
// fail) takes the slow, exact decoding.
func (c *tokenClaims) UnmarshalJSON(b []byte) error {
	*c = tokenClaims{}
	if i := skipSpace(b, 0); i == len(b) || b[i] != '{' {
		return errors.New("the payload is not a JSON object") // null is not claims
	}
	if json.Unmarshal(b, (*plainClaims)(c)) == nil {
		exact, err := exactNames(b)
		if err != nil || exact {
			return err
		}
	}
	*c = tokenClaims{}
	return c.unmarshalExact(b)
}

// exactNames reports whether every member name of the valid JSON object
// b is plain (no escapes) and either a claim of tokenClaims spelled
// exactly or no claim of it in any case; a plain name given twice is an
// error.
func exactNames(b []byte) (bool, error) {
	var known uint64 // bit i: claim i seen
	var small [8][]byte
	others := small[:0]
	exact := true
	var err error
	eachMemberName(b, func(name []byte) bool {
		if bytes.IndexByte(name, '\\') >= 0 {
			exact = false
			return false
		}
		if i := claimIndex(name); i >= 0 {
			if known&(1<<i) != 0 {
				err = fmt.Errorf("%w %q", errDuplicateName, name)
				return false
			}
			known |= 1 << i
			return true
		}
		if foldsToClaim(name) {
			exact = false
			return false
		}
		for _, o := range others {
			if bytes.Equal(o, name) {
				err = fmt.Errorf("%w %q", errDuplicateName, name)
				return false
			}
		}
		if len(others) == cap(small) {
			exact = false // many unknown claims: let the exact decoding count them
			return false
		}
		others = append(others, name)
		return true
	})
	return exact && err == nil, err
}

// unmarshalExact decodes b keeping only the claims spelled exactly, each
// once: what PyJWT reads.
func (c *tokenClaims) unmarshalExact(b []byte) error {
	var kept bytes.Buffer
	kept.WriteByte('{')
	var skip skipValue
	err := walkObject(b, false, func(dec *json.Decoder, name string) error {
		if claimIndex([]byte(name)) < 0 {
			return dec.Decode(&skip)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return err
		}
		if kept.Len() > 1 {
			kept.WriteByte(',')
		}
		kept.WriteString(strconv.Quote(name))
		kept.WriteByte(':')
		kept.Write(raw)
		return nil
	})
	if err != nil {
		return err
	}
	kept.WriteByte('}')
	return json.Unmarshal(kept.Bytes(), (*plainClaims)(c))
}

// claimIndex numbers the claims of tokenClaims by their exact JSON name,
// or is -1 for any other name. TestEveryClaimIsNamed checks that no
// json-tagged field of tokenClaims is missing.
func claimIndex(name []byte) int {
	switch string(name) {
	case "id":
		return 0
	case "identifier":
		return 1
	case "display_name":
		return 2
	case "metadata":
		return 3
	case "createdAt":
		return 4
	case "exp":
		return 5
	case "iat":
		return 6
	case "nbf":
		return 7
	case "jti":
		return 8
	case "iss":
		return 9
	case "aud":
		return 10
	case "sub":
		return 11
	case "sexp":
		return 12
	case "prv":
		return 13
	case "iatms":
		return 14
	case "sid":
		return 15
	case "hdr":
		return 16
	}
	return -1
}

// foldsToClaim reports whether name is a claim of tokenClaims in another
// case, which encoding/json would have read as that claim.
func foldsToClaim(name []byte) bool {
	if len(name) > len("display_name") {
		return false
	}
	var lower [len("display_name")]byte
	for i, ch := range name {
		if ch >= 0x80 {
			// encoding/json also folds the Kelvin sign and the long s to
			// k and s: leave such names to the exact decoding.
			return true
		}
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		lower[i] = ch
	}
	l := lower[:len(name)]
	return claimIndex(l) >= 0 || string(l) == "createdat"
}

// eachMemberName calls f with the raw name (between the quotes, escapes
// as written) of each member of the valid JSON object b, in order, until f
// returns false.
func eachMemberName(b []byte, f func(name []byte) bool) {
	i := skipSpace(b, 0) + 1 // past '{'
	for {
		i = skipSpace(b, i)
		if i >= len(b) || b[i] != '"' {
			return // '}'
		}
		end := stringEnd(b, i)
		if !f(b[i+1 : end-1]) {
			return
		}
		i = skipSpace(b, end) + 1 // past ':'
		i = valueEnd(b, skipSpace(b, i))
		i = skipSpace(b, i)
		if i >= len(b) || b[i] != ',' {
			return
		}
		i++
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd is the index just past the JSON string starting at b[i].
func stringEnd(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// valueEnd is the index just past the valid JSON value starting at b[i].
func valueEnd(b []byte, i int) int {
	depth := 0
	for i < len(b) {
		switch b[i] {
		case '"':
			i = stringEnd(b, i)
			if depth == 0 {
				return i
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i
			}
			if depth--; depth == 0 {
				return i + 1
			}
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return i
			}
		}
		i++
	}
	return i
}

// joseHeader is what chatauth reads of a token header.
type joseHeader struct {
	alg      string
	typ, kid *string
	crit     bool // a crit parameter is present
	others   int  // parameters besides alg, typ, kid and crit
}

// parseJOSEHeader decodes a token header strictly (exact names, no
// duplicates).
func parseJOSEHeader(b []byte) (joseHeader, error) {
	var h joseHeader
	var skip skipValue
	err := walkObject(b, false, func(dec *json.Decoder, name string) error {
		switch name {
		case "alg":
			return dec.Decode(&h.alg)
		case "typ":
			h.typ = new(string)
			return dec.Decode(h.typ)
		case "kid":
			h.kid = new(string)
			return dec.Decode(h.kid)
		case "crit":
			h.crit = true
		default:
			h.others++
		}
		return dec.Decode(&skip)
	})
	return h, err
}

// errCritical refuses a token whose header has crit: chatauth understands
// no JWS extension, and RFC 7515 section 4.1.11 says a recipient must then
// refuse the token.
var errCritical = errors.New("crit header parameter names an extension chatauth does not understand")

// checkHeaderSegment applies the strict header rules to the header segment
// of token (base64url, strictly decoded): the check golang-jwt's parser
// does not make, done in its key function.
func checkHeaderSegment(token string) error {
	seg, _, _ := strings.Cut(token, ".")
	raw, err := strictBase64.DecodeString(seg)
	if err != nil {
		return fmt.Errorf("header: %w", err)
	}
	h, err := parseJOSEHeader(raw)
	if err != nil {
		return fmt.Errorf("header: %w", err)
	}
	if h.crit {
		return errCritical
	}
	return nil
}

// checkPayloadNames refuses a payload segment that names a claim twice:
// for tokens decoded into jwt.MapClaims, where the last would silently win.
func checkPayloadNames(token string) error {
	_, rest, _ := strings.Cut(token, ".")
	seg, _, _ := strings.Cut(rest, ".")
	raw, err := strictBase64.DecodeString(seg)
	if err != nil {
		return fmt.Errorf("payload: %w", err)
	}
	var skip skipValue
	if err := walkObject(raw, false, func(dec *json.Decoder, _ string) error { return dec.Decode(&skip) }); err != nil {
		return fmt.Errorf("payload: %w", err)
	}
	return nil
}
