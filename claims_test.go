package chatauth

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestEveryClaimIsNamed: each json-tagged field of tokenClaims has its
// exact name in claimIndex, so that a claim added to the struct is read
// exactly, and never twice, on both verification paths.
func TestEveryClaimIsNamed(t *testing.T) {
	var walk func(typ reflect.Type)
	walk = func(typ reflect.Type) {
		for i := range typ.NumField() {
			f := typ.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if f.Anonymous && name == "" {
				walk(f.Type)
				continue
			}
			if name != "" && name != "-" && claimIndex([]byte(name)) < 0 {
				t.Errorf("claim %q (tokenClaims.%s) is missing from claimIndex: add its case", name, f.Name)
			}
		}
	}
	walk(reflect.TypeFor[tokenClaims]())
}

func TestClaimsUnmarshalJSON(t *testing.T) {
	many := func(n int, dup string) string {
		var b strings.Builder
		b.WriteString(`{"identifier":"ada"`)
		for i := range n {
			fmt.Fprintf(&b, `,"c%d":%d`, i, i)
		}
		return b.String() + dup + "}"
	}
	for _, tt := range []struct {
		name, payload string
		ok            bool
		identifier    string
	}{
		{"plain", `{"identifier":"ada","display_name":"Ada"}`, true, "ada"},
		{"unknown claims skipped", `{"identifier":"ada","x":[1,{"y":null}],"z":"w"}`, true, "ada"},
		{"upper-case name is another claim", `{"IDENTIFIER":"root"}`, true, ""},
		{"mixed-case name is another claim", `{"identifier":"ada","Identifier":"root"}`, true, "ada"},
		{"duplicate", `{"identifier":"ada","identifier":"root"}`, false, ""},
		{"duplicate among many", many(40, `,"c7":1`), false, ""},
		{"many distinct", many(40, ""), true, "ada"},
		{"duplicate unknown", `{"a":1,"a":1}`, false, ""},
		{"same name in metadata and at the top", `{"identifier":"ada","metadata":{"identifier":"x"}}`, true, "ada"},
		{"trailing data", `{"identifier":"ada"} {}`, false, ""},
		{"array", `["identifier"]`, false, ""},
		{"wrong type", `{"identifier":7}`, false, ""},
		{"unterminated", `{"identifier":"ada"`, false, ""},
		{"empty", ``, false, ""},
		{"escaped name is the claim", `{"\u0069dentifier":"ada"}`, true, "ada"},
		{"escaped name twice", `{"identifier":"root","\u0069dentifier":"ada"}`, false, ""},
		{"escaped upper-case name", `{"identifier":"ada","\u0049DENTIFIER":"root"}`, true, "ada"},
		{"upper-case name after the claim", `{"identifier":"ada","IDENTIFIER":"root"}`, true, "ada"},
		{"upper-case name before the claim", `{"IDENTIFIER":"root","identifier":"ada"}`, true, "ada"},
		{"kelvin sign folds in encoding/json", `{"identifier":"ada","\u212aid":"x"}`, true, "ada"},
		{"many unknown claims then a duplicate", many(20, `,"c3":0`), false, ""},
		{"upper-case EXP is not exp", `{"identifier":"ada","EXP":1}`, true, "ada"},
		{"upper-case EXP of another type", `{"identifier":"ada","EXP":"soon"}`, true, "ada"},
		{"upper-case IDENTIFIER of another type", `{"IDENTIFIER":5,"identifier":"ada"}`, true, "ada"},
		{"long s is not s", `{"identifier":"ada","ſub":"x","SUB":"y"}`, true, "ada"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var c tokenClaims
			err := c.UnmarshalJSON([]byte(tt.payload))
			if (err == nil) != tt.ok {
				t.Fatalf("UnmarshalJSON(%s) = %v, want ok %v", tt.payload, err, tt.ok)
			}
			if tt.ok && c.Identifier != tt.identifier {
				t.Errorf("identifier = %q, want %q", c.Identifier, tt.identifier)
			}
			if tt.ok && (c.ExpiresAt != nil || c.Subject != "") {
				t.Errorf("exp or sub read from %s", tt.payload)
			}
			if tt.name == "duplicate" && !errors.Is(err, errDuplicateName) {
				t.Errorf("error %v does not wrap errDuplicateName", err)
			}
		})
	}
}

// losslessMetadata is metadata a Chainlit app may hold: numbers whose
// text encoding/json would change (2.0 to 2, an integer beyond 2^63 to
// 9223372036854776000). Keys are sorted and the text compact, as Go
// writes maps, so that the text itself can be compared.
const losslessMetadata = `{"big":9223372036854775809,"exp":1e3,"f":2.0,"list":[1.0,{"x":3.10}],"neg":-0.0,"small":0.1}`

// payloadMetadata is the metadata text of a token's payload.
func payloadMetadata(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q has %d parts", token, len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]json.RawMessage
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatal(err)
	}
	return string(claims["metadata"])
}

// bodyMetadata is the metadata text of a /user answer.
func bodyMetadata(t *testing.T, resp *http.Response) string {
	t.Helper()
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var u map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &u); err != nil {
		t.Fatal(err)
	}
	return string(u["metadata"])
}

// TestMetadataIsLossless: numbers in a Chainlit user's metadata keep their
// exact text through GET /user, POST /auth/jwt and renewal, on the fast
// path and on golang-jwt's.
func TestMetadataIsLossless(t *testing.T) {
	a, clk, _ := newTestAuth(t, Config{Session: SessionConfig{IdleTimeout: time.Hour}})
	a.OnPassword(acceptUser(&User{Identifier: "unused"}))
	now := clk.Now()
	payload := fmt.Sprintf(`{"identifier":"ada","display_name":null,"metadata":%s,"exp":%d,"iat":%d}`,
		losslessMetadata, now.Add(time.Hour).Unix(), now.Unix())
	tokens := map[string]string{
		"chainlit token, fast path":   signedJSON(`{"alg":"HS256","typ":"JWT"}`, payload, testSecret),
		"typ at+jwt, golang-jwt path": signedJSON(`{"alg":"HS256","typ":"at+jwt"}`, payload, testSecret),
	}
	for name, token := range tokens {
		t.Run(name, func(t *testing.T) {
			if got := bodyMetadata(t, serve(t, a, userRequest(a, token))); got != losslessMetadata {
				t.Errorf("GET /user metadata = %s, want %s", got, losslessMetadata)
			}

			req := httptest.NewRequest(http.MethodPost, "/auth/jwt", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			resp := serve(t, a, req)
			c := cookieNamed(resp, "access_token")
			if resp.StatusCode != http.StatusOK || c == nil {
				t.Fatalf("POST /auth/jwt = %d, cookie %v", resp.StatusCode, c)
			}
			if got := payloadMetadata(t, c.Value); got != losslessMetadata {
				t.Errorf("metadata of the /auth/jwt session = %s, want %s", got, losslessMetadata)
			}
			if got := bodyMetadata(t, serve(t, a, userRequest(a, c.Value))); got != losslessMetadata {
				t.Errorf("GET /user of the /auth/jwt session: metadata = %s", got)
			}
		})
	}

	t.Run("renewal", func(t *testing.T) {
		s, err := a.VerifyToken(t.Context(), tokens["chainlit token, fast path"])
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		if _, err := a.StartSession(rec, httptest.NewRequest(http.MethodGet, "/", nil), s.User); err != nil {
			t.Fatal(err)
		}
		session := cookieNamed(rec.Result(), "access_token").Value
		clk.Advance(40 * time.Minute)
		resp := getWithCookie(t, protected(a), a, session)
		renewed := cookieNamed(resp, "access_token")
		if resp.StatusCode != http.StatusOK || renewed == nil {
			t.Fatalf("no renewal: %d %v", resp.StatusCode, resp.Cookies())
		}
		if got := payloadMetadata(t, renewed.Value); got != losslessMetadata {
			t.Errorf("renewed metadata = %s, want %s", got, losslessMetadata)
		}
	})
}

// TestUserJSONIsLossless: User's own JSON (what an app's store keeps)
// keeps numbers exact too.
func TestUserJSONIsLossless(t *testing.T) {
	in := `{"identifier":"ada","display_name":"Ada","metadata":` + losslessMetadata + `}`
	var u User
	if err := json.Unmarshal([]byte(in), &u); err != nil {
		t.Fatal(err)
	}
	if n, ok := u.Metadata["big"].(json.Number); !ok || n.String() != "9223372036854775809" {
		t.Errorf("metadata big = %#v, want json.Number", u.Metadata["big"])
	}
	out, err := json.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != in {
		t.Errorf("round trip:\n got %s\nwant %s", out, in)
	}
}

// FuzzClaimsDecoding: on any payload, the one-pass decoding with its name
// scan reads exactly what the slow, exact decoding reads, and refuses
// exactly what it refuses.
func FuzzClaimsDecoding(f *testing.F) {
	for _, seed := range []string{
		`{"identifier":"ada","display_name":null,"metadata":{"n":2.0},"exp":2000000000,"iat":1}`,
		`{"IDENTIFIER":"root","identifier":"ada","EXP":"x"}`,
		`{"identifier":"ada","identifier":"root"}`,
		`{"\u0069dentifier":"ada","ſub":"x","aud":["a","b"],"iatms":5}`,
		`{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"a":0}`,
		`{"metadata":{"identifier":"x"}} `,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		var fast, exact tokenClaims
		errFast := fast.UnmarshalJSON(payload)
		errExact := exact.unmarshalExact(payload)
		if (errFast == nil) != (errExact == nil) {
			t.Fatalf("%s: one-pass %v, exact %v", payload, errFast, errExact)
		}
		if errFast == nil && !reflect.DeepEqual(fast, exact) {
			t.Fatalf("%s:\none-pass %+v\nexact    %+v", payload, fast, exact)
		}
	})
}

// BenchmarkClaimsDecoding decodes the payload of a typical session token
// (bench_test.go's benchUser): the one-pass decoding with its name scan,
// which every first sight of a token pays, against the exact decoding that
// only unusual payloads take, and against encoding/json's pass alone,
// without the name scan (case-insensitive, the last duplicate winning).
func BenchmarkClaimsDecoding(b *testing.B) {
	a := benchAuth(b)
	tok := benchToken(b, a)
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	if err != nil {
		b.Fatal(err)
	}
	for _, bm := range []struct {
		name   string
		decode func(c *tokenClaims) error
	}{
		{"one-pass", func(c *tokenClaims) error { return c.UnmarshalJSON(payload) }},
		{"exact", func(c *tokenClaims) error { return c.unmarshalExact(payload) }},
		{"encoding-json-pass-alone", func(c *tokenClaims) error { return json.Unmarshal(payload, (*plainClaims)(c)) }},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var c tokenClaims
				if err := bm.decode(&c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
