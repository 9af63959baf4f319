package chatauth

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatauth/chatauth/internal/testutil"
	"github.com/golang-jwt/jwt/v5"
)

// rawToken signs header and claims with HMAC-SHA256 under secret, by hand,
// so that tests can make headers golang-jwt would never write.
func rawToken(header, claims map[string]any, secret []byte) string {
	return testutil.SignHS256(header, claims, secret)
}

// fastAgrees checks the fast path never accepts a token the full parser
// refuses, and reads the same claims when both accept.
func fastAgrees(t testing.TB, k *keyring, token string) (fastOK, fullOK bool) {
	var fast, full tokenClaims
	fastOK = k.fast.verify(token, &fast) == nil
	_, err := k.parser.ParseWithClaims(token, &full, k.keyFor)
	fullOK = err == nil
	if fastOK && !fullOK {
		t.Fatalf("fast path accepted a token golang-jwt refuses (%v): %s", err, token)
	}
	if fastOK && !reflect.DeepEqual(fast, full) {
		t.Fatalf("claims differ:\nfast %+v\nfull %+v", fast, full)
	}
	return fastOK, fullOK
}

func TestFastPathAgreesWithGolangJWT(t *testing.T) {
	for _, cfg := range []Config{{}, {Session: SessionConfig{Issuer: "https://chat.example.com", Audience: "chat"}}} {
		a, clk, _ := newTestAuth(t, cfg)
		other := []byte(strings.Repeat("o", 32))
		k := a.keys.Load()
		now := clk.Now()
		kid := k.current.id
		claims := func(mod func(map[string]any)) map[string]any {
			c := map[string]any{"identifier": "ada", "display_name": "Ada", "metadata": map[string]any{"n": 1.5},
				"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "jti": "j1"}
			if cfg.Session.Issuer != "" {
				c["iss"], c["aud"] = cfg.Session.Issuer, cfg.Session.Audience
			}
			if mod != nil {
				mod(c)
			}
			return c
		}
		hs := func(extra map[string]any) map[string]any {
			h := map[string]any{"alg": "HS256", "typ": "JWT", "kid": kid}
			for k, v := range extra {
				if v == nil {
					delete(h, k)
				} else {
					h[k] = v
				}
			}
			return h
		}
		good := rawToken(hs(nil), claims(nil), testSecret)
		cases := map[string]struct {
			token string
			fast  bool // the fast path takes it
			full  bool // golang-jwt accepts it
		}{
			"ours":               {issue(t, a, &User{Identifier: "ada"}), true, true},
			"hand-made":          {good, true, true},
			"chainlit, no kid":   {rawToken(hs(map[string]any{"kid": nil}), claims(nil), testSecret), true, true},
			"no typ":             {rawToken(hs(map[string]any{"typ": nil}), claims(nil), testSecret), true, true},
			"other secret":       {rawToken(hs(map[string]any{"kid": nil}), claims(nil), other), false, false},
			"unknown kid":        {rawToken(hs(map[string]any{"kid": "nope"}), claims(nil), testSecret), false, false},
			"alg none":           {rawToken(map[string]any{"alg": "none"}, claims(nil), testSecret), false, false},
			"HS384 header":       {rawToken(hs(map[string]any{"alg": "HS384"}), claims(nil), testSecret), false, false},
			"crit header":        {rawToken(hs(map[string]any{"crit": []string{"exp"}}), claims(nil), testSecret), false, false},
			"jku header":         {rawToken(hs(map[string]any{"jku": "https://evil"}), claims(nil), testSecret), false, true},
			"typ other":          {rawToken(hs(map[string]any{"typ": "at+jwt"}), claims(nil), testSecret), false, true},
			"expired":            {rawToken(hs(nil), claims(func(c map[string]any) { c["exp"] = now.Add(-time.Minute).Unix() }), testSecret), false, false},
			"no exp":             {rawToken(hs(nil), claims(func(c map[string]any) { delete(c, "exp") }), testSecret), false, false},
			"iat in future":      {rawToken(hs(nil), claims(func(c map[string]any) { c["iat"] = now.Add(time.Hour).Unix() }), testSecret), false, false},
			"nbf in future":      {rawToken(hs(nil), claims(func(c map[string]any) { c["nbf"] = now.Add(time.Hour).Unix() }), testSecret), false, false},
			"exp as string":      {rawToken(hs(nil), claims(func(c map[string]any) { c["exp"] = "soon" }), testSecret), false, false},
			"identifier number":  {rawToken(hs(nil), claims(func(c map[string]any) { c["identifier"] = 7 }), testSecret), false, false},
			"tampered payload":   {good[:len(good)-50] + "A" + good[len(good)-49:], false, false},
			"tampered signature": {good[:len(good)-2] + "AA", false, false},
			"two dots only":      {"a.b", false, false},
			"four parts":         {good + ".x", false, false},
		}
		if cfg.Session.Issuer != "" {
			cases["wrong iss"] = struct {
				token      string
				fast, full bool
			}{rawToken(hs(nil), claims(func(c map[string]any) { c["iss"] = "evil" }), testSecret), false, false}
			cases["no aud"] = struct {
				token      string
				fast, full bool
			}{rawToken(hs(nil), claims(func(c map[string]any) { delete(c, "aud") }), testSecret), false, false}
		}
		for name, tc := range cases {
			fast, full := fastAgrees(t, k, tc.token)
			if fast != tc.fast || full != tc.full {
				t.Errorf("%s (issuer %q): fast %v full %v, want %v %v", name, cfg.Session.Issuer, fast, full, tc.fast, tc.full)
			}
		}
	}
}

// FuzzFastPathAgreesWithGolangJWT: on any input, the fast path accepts only
// what golang-jwt accepts, with the same claims.
func FuzzFastPathAgreesWithGolangJWT(f *testing.F) {
	a, err := New(Config{Secret: testSecret, Logger: discardLogger()})
	if err != nil {
		f.Fatal(err)
	}
	k := a.keys.Load()
	tok, _, _ := a.IssueToken(&User{Identifier: "ada", Metadata: map[string]any{"x": []any{1, "a"}}})
	f.Add(tok)
	f.Add(rawToken(map[string]any{"alg": "HS256"}, map[string]any{"identifier": "x", "exp": 4e9}, testSecret))
	f.Add("e30.e30.")
	f.Fuzz(func(t *testing.T, token string) {
		fastAgrees(t, k, token)
	})
}

func TestRemovedKeyRefusedOnFastPath(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{})
	old := issue(t, a, &User{Identifier: "ada"})
	newSecret := []byte(strings.Repeat("n", 32))
	if err := a.SetSecrets(newSecret); err != nil {
		t.Fatal(err)
	}
	var c tokenClaims
	if err := a.keys.Load().fast.verify(old, &c); err == nil {
		t.Fatal("token of a removed key accepted by the fast path")
	}
	_ = jwt.SigningMethodHS256
}

// whitespaceHeader is the JSON header {"alg":"HS256",...} with the
// whitespace pattern numbered i between its members, kid included when not
// empty: 100,000 distinct spellings of one header, each short enough for
// the fast path.
func whitespaceHeader(i int, kid string) string {
	var ws strings.Builder
	for n := i; n > 0 || ws.Len() < 9; n /= 4 {
		ws.WriteByte(" \t\r\n"[n%4])
	}
	h := `{"alg":"HS256",` + ws.String() + `"typ":"JWT"`
	if kid != "" {
		h += `,"kid":"` + kid + `"`
	}
	return base64.RawURLEncoding.EncodeToString([]byte(h + "}"))
}

// TestFastPathKeepsOnlyVerifiedHeaders: issue 11's recipe (a header of
// HS256 and whitespace, different every time, with a forged signature)
// sent 100,000 times leaves the header cache empty, with and without our
// kid; a header longer than maxHeaderSegment is never decoded by the fast
// path, even correctly signed; a secret holder writing distinct headers
// fills at most maxKnownHeaders entries.
func TestFastPathKeepsOnlyVerifiedHeaders(t *testing.T) {
	a, clk, _ := newTestAuth(t, Config{})
	k := a.keys.Load()
	payload := segment(base64.RawURLEncoding, map[string]any{"identifier": "ada", "exp": clk.Now().Add(time.Hour).Unix()})
	forgedSig := strings.Repeat("A", 43)
	known := func() int {
		n := 0
		k.fast.headers.Range(func(any, any) bool { n++; return true })
		return n
	}
	var wg sync.WaitGroup
	for w := range 2 { // two at a time, as a server would take them
		wg.Go(func() {
			var c tokenClaims
			for i := w; i < 100000; i += 2 {
				kid := ""
				if i%4 < 2 {
					kid = k.current.id
				}
				if k.fast.verify(whitespaceHeader(i, kid)+"."+payload+"."+forgedSig, &c) == nil {
					t.Errorf("forged token %d accepted", i)
					return
				}
			}
		})
	}
	wg.Wait()
	var c tokenClaims
	if n := known(); n != 0 {
		t.Fatalf("%d forged headers kept, want 0", n)
	}

	long := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256",` + strings.Repeat(" ", 9000) + `"typ":"JWT"}`))
	if k.fast.verify(signSegments(base64.RawURLEncoding, long, payload), &c) == nil {
		t.Error("fast path took a 12 KB header")
	}
	if _, err := a.VerifyToken(context.Background(), signSegments(base64.RawURLEncoding, long, payload)); err != nil {
		t.Errorf("golang-jwt refused a correctly signed token with a long header: %v", err)
	}

	for i := range 100 {
		if err := k.fast.verify(signSegments(base64.RawURLEncoding, whitespaceHeader(i, ""), payload), &c); err != nil {
			t.Fatalf("correctly signed token %d refused: %v", i, err)
		}
	}
	if n := known(); n != maxKnownHeaders {
		t.Errorf("%d verified headers kept, want the bound %d", n, maxKnownHeaders)
	}
}

// signedJSON signs a header and a payload given as JSON text, so that
// tests can spell names twice or in another case, which no map can.
func signedJSON(header, payload string, secret []byte) string {
	enc := base64.RawURLEncoding.EncodeToString
	return testutil.SignSegments(secret, base64.RawURLEncoding, enc([]byte(header)), enc([]byte(payload)))
}

// TestStrictNamesOnBothPaths: header and claim names match exactly and a
// name given twice refuses the token, on the fast path and in golang-jwt's
// parser alike (RFC 7515 sections 4.1.11 and 5.2, RFC 7519 section 4;
// encoding/json alone would read "EXP" as exp and keep the last duplicate).
func TestStrictNamesOnBothPaths(t *testing.T) {
	a, clk, _ := newTestAuth(t, Config{})
	k := a.keys.Load()
	exp, iat := clk.Now().Add(time.Hour).Unix(), clk.Now().Unix()
	payload := func(extra string) string {
		return fmt.Sprintf(`{"identifier":"ada","metadata":{},"iat":%d,%s}`, iat, extra)
	}
	good := fmt.Sprintf(`"exp":%d`, exp)
	hs := `{"alg":"HS256","typ":"JWT"}`
	for _, tt := range []struct {
		name, header, payload string
		fast, full            bool
	}{
		{"control", hs, payload(good), true, true},
		{"crit", `{"alg":"HS256","crit":["exp"]}`, payload(good), false, false},
		{"crit empty", `{"alg":"HS256","crit":[]}`, payload(good), false, false},
		{"header ALG", `{"ALG":"HS256","typ":"JWT"}`, payload(good), false, false},
		{"header alg twice, HS256 last", `{"alg":"none","alg":"HS256"}`, payload(good), false, false},
		{"header kid twice", `{"alg":"HS256","kid":"x","kid":"` + k.current.id + `"}`, payload(good), false, false},
		{"EXP only", hs, payload(fmt.Sprintf(`"EXP":%d`, exp)), false, false},
		{"exp twice", hs, payload(fmt.Sprintf(`"exp":%d,"exp":%d`, iat-10, exp)), false, false},
		{"identifier twice", hs, payload(good + `,"identifier":"root"`), false, false},
		{"metadata twice", hs, payload(good + `,"metadata":{"role":"admin"}`), false, false},
		{"unknown claim twice", hs, payload(good + `,"x":1,"x":2`), false, false},
		{"data after the payload", hs, payload(good) + ` {}`, false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fast, full := fastAgrees(t, k, signedJSON(tt.header, tt.payload, testSecret))
			if fast != tt.fast || full != tt.full {
				t.Errorf("fast %v full %v, want %v %v", fast, full, tt.fast, tt.full)
			}
		})
	}
}

// TestUpperCaseClaimsAreNotRead: a token whose only identifier is spelled
// IDENTIFIER is refused, as PyJWT and Chainlit see no identifier in it.
func TestUpperCaseClaimsAreNotRead(t *testing.T) {
	a, clk, _ := newTestAuth(t, Config{})
	tok := signedJSON(`{"alg":"HS256","typ":"JWT"}`,
		fmt.Sprintf(`{"IDENTIFIER":"root","exp":%d}`, clk.Now().Add(time.Hour).Unix()), testSecret)
	if s, err := a.VerifyToken(context.Background(), tok); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("VerifyToken = %+v, %v; want ErrInvalidToken", s, err)
	}
}
