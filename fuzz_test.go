package chatauth

// Fuzz targets of everything chatauth reads from a request: the session
// token (cookie, chunks, Bearer) through GET R/user, the sealed OAuth state
// through the callback route, the OAuth redirect parameter, the login form,
// and the mapping of provider user data. Each target compares what the
// library does with what the contract says, computed independently where
// that is practical. Seeds are in testdata/fuzz/<Target>; a short run of one
// target: go test -run '^$' -fuzz '^FuzzSafeRedirect$' -fuzztime 10s .

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

// fuzzNow is the fixed clock of the fuzz targets, so that the seed tokens
// and state cookies stay valid however long a run takes.
var fuzzNow = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

// newFuzzAuth is an Auth from cfg (Secret defaulting to testSecret) that
// logs nowhere and lives at fuzzNow, stores included.
func newFuzzAuth(tb testing.TB, cfg Config) *Auth {
	tb.Helper()
	if cfg.Secret == nil {
		cfg.Secret = testSecret
	}
	if cfg.Logger == nil {
		cfg.Logger = discardLogger()
	}
	a, err := New(cfg)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	now := func() time.Time { return fuzzNow }
	a.now = now
	if s, ok := a.cfg.Revocations.(*memoryRevocationStore); ok {
		s.now = now
	}
	if th, ok := a.cfg.Throttle.(*memoryThrottle); ok {
		th.now = now
	}
	return a
}

// fuzzToken signs claims (valid at fuzzNow unless mod changes them) with
// secret, the way Chainlit does (no kid) or with extra header fields.
// Deterministic, so that its tokens can live in the seed corpus.
func fuzzToken(secret []byte, header map[string]any, mod func(map[string]any)) string {
	h := map[string]any{"alg": "HS256", "typ": "JWT"}
	for k, v := range header {
		h[k] = v
	}
	c := map[string]any{"identifier": "ada", "display_name": "Ada", "metadata": map[string]any{"role": "admin"},
		"iat": fuzzNow.Unix(), "exp": fuzzNow.Add(24 * time.Hour).Unix()}
	if mod != nil {
		mod(c)
	}
	return rawToken(h, c, secret)
}

// respellSignature changes the low bits of the signature's last base64url
// character, which carry no data: the same signature, spelled otherwise.
func respellSignature(token string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, token[len(token)-1])
	return token[:len(token)-1] + string(alphabet[i^1])
}

// refIdentifier verifies a session token the way the contract defines one,
// with golang-jwt alone: HS256 with testSecret (named by its kid, or by
// none as in Chainlit's tokens), exp required and after now, iat not in the
// future beyond the 5 s leeway, and a non-empty identifier.
func refIdentifier(token string) (string, bool) {
	p := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithStrictDecoding(), jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(), jwt.WithLeeway(5*time.Second), jwt.WithTimeFunc(func() time.Time { return fuzzNow }))
	var c tokenClaims
	_, err := p.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) {
		if kid, ok := t.Header["kid"]; ok && kid != keyID(testSecret) {
			return nil, errors.New("unknown kid")
		}
		return testSecret, nil
	})
	if err != nil || c.Identifier == "" || c.ExpiresAt == nil || !fuzzNow.Before(c.ExpiresAt.Time) {
		return "", false
	}
	return c.Identifier, true
}

// cookieOctets reports whether v is made of RFC 6265 cookie-octets only,
// so that a Cookie header carries it unchanged.
func cookieOctets(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c <= ' ' || c >= 0x7f || c == '"' || c == ',' || c == ';' || c == '\\' {
			return false
		}
	}
	return true
}

// specBearer reads an Authorization value by the contract: exactly two
// words, the first "Bearer" in any case. determinable is false when the
// value holds whitespace other than spaces and tabs, or non-ASCII, where
// "word" is open to interpretation.
func specBearer(h string) (token string, determinable bool) {
	for i := 0; i < len(h); i++ {
		if c := h[i]; (c < ' ' && c != '\t') || c >= 0x7f {
			return "", false
		}
	}
	words := strings.FieldsFunc(h, func(r rune) bool { return r == ' ' || r == '\t' })
	if len(words) == 2 && strings.EqualFold(words[0], "bearer") {
		return words[1], true
	}
	return "", true
}

// tokenCandidates is every string a lenient reader could take for the
// session token in these headers: each cookie value (trimmed, unquoted),
// the chunks joined, and the second word of Authorization.
func tokenCandidates(cookieHeader, authorization string) []string {
	out := []string{authorization}
	chunks := map[int]string{}
	for _, part := range strings.Split(cookieHeader, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		out = append(out, v)
		if n, ok := strings.CutPrefix(k, "access_token_"); ok {
			if i, err := strconv.Atoi(n); err == nil {
				if _, seen := chunks[i]; !seen {
					chunks[i] = v
				}
			}
		}
	}
	var joined strings.Builder
	for i := 0; ; i++ {
		v, ok := chunks[i]
		if !ok {
			break
		}
		joined.WriteString(v)
	}
	out = append(out, joined.String())
	h := strings.TrimSpace(authorization)
	if i := strings.IndexAny(h, " \t"); i >= 0 {
		out = append(out, strings.TrimSpace(h[i+1:]))
	}
	return out
}

// Modes of FuzzSessionToken: which headers the request carries and how.
const (
	tokCookie        = 1 << iota // send the cookie argument as the session cookie
	tokAuthorization             // send the authorization argument as Authorization
	tokChunked                   // send the cookie as two chunks, access_token_0 and _1
	tokChunksReverse             // ... with _1 first in the header
	tokValidCookie               // replace the cookie argument with a valid token
	tokValidBearer               // replace the authorization argument with "Bearer <valid token>"
)

// FuzzSessionToken drives GET /user with arbitrary session cookies (whole or
// chunked) and Authorization headers. It never panics and answers 200 only
// for a token that verifies under golang-jwt with the test key (and then
// with that token's user), 401 otherwise, 431 only for oversized input;
// where the contract decides which token the request presents (cookie,
// then chunks, then Bearer), the answer is exactly that token's verdict.
func FuzzSessionToken(f *testing.F) {
	a := newFuzzAuth(f, Config{RequireLogin: true})
	valid := fuzzToken(testSecret, nil, nil)
	withKid := fuzzToken(testSecret, map[string]any{"kid": keyID(testSecret)}, nil)
	for _, s := range []struct {
		cookie, authorization string
		mode                  uint8
	}{
		{valid, "", tokCookie},
		{withKid, "", tokCookie | tokChunked},
		{"", "Bearer " + valid, tokAuthorization},
		{"garbage", "bearer\t" + valid, tokCookie | tokAuthorization},
		{"", "", tokCookie | tokAuthorization | tokValidBearer},
		{`"` + valid + `"`, "Basic YTpi", tokCookie | tokAuthorization},
		{fuzzToken(testSecret, nil, func(c map[string]any) { c["exp"] = fuzzNow.Unix() }), "", tokCookie},
		{fuzzToken([]byte(strings.Repeat("o", 32)), nil, nil), "", tokCookie},
		{fuzzToken(testSecret, map[string]any{"alg": "none"}, nil), "", tokCookie},
		{"x;access_token_0=" + valid, "", tokCookie},
		// One spelling per token: a revoked Chainlit token (named by its
		// hash) must not come back with other trailing bits.
		{respellSignature(valid), "", tokCookie},
		{"", "Bearer " + respellSignature(valid), tokAuthorization},
	} {
		f.Add(s.cookie, s.authorization, s.mode)
	}
	f.Fuzz(func(t *testing.T, cookie, authorization string, mode uint8) {
		if mode&tokValidCookie != 0 {
			cookie = valid
		}
		if mode&tokValidBearer != 0 {
			authorization = "Bearer " + valid
		}
		req := httptest.NewRequest(http.MethodGet, "/user", nil)
		var cookieHeader string
		if mode&tokCookie != 0 {
			cookieHeader = "access_token=" + cookie
			if mode&tokChunked != 0 {
				half := len(cookie) / 2
				c0, c1 := "access_token_0="+cookie[:half], "access_token_1="+cookie[half:]
				cookieHeader = c0 + "; " + c1
				if mode&tokChunksReverse != 0 {
					cookieHeader = c1 + "; " + c0
				}
			}
			req.Header.Set("Cookie", cookieHeader)
		}
		if mode&tokAuthorization != 0 {
			req.Header.Set("Authorization", authorization)
		} else {
			authorization = ""
		}
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, req)
		body := rec.Body.String()

		oversized := len(cookieHeader) > MaxTokenBytes || len(authorization) > MaxTokenBytes
		switch rec.Code {
		case http.StatusOK:
		case http.StatusUnauthorized:
			// Chainlit's three answers: no token, another scheme, a bad token.
			switch d := strings.TrimSpace(rec.Body.String()); d {
			case `{"detail":"Not authenticated"}`, `{"detail":"Invalid authentication credentials"}`:
			default:
				wantDetail(t, rec, "Invalid authentication token")
			}
		case http.StatusRequestHeaderFieldsTooLarge:
			if !oversized {
				t.Fatalf("431 for a cookie of %d and a header of %d bytes", len(cookieHeader), len(authorization))
			}
		default:
			t.Fatalf("status %d (mode %#x), want 200, 401 or 431", rec.Code, mode)
		}

		// The token the contract says the request presents, when that is
		// clear-cut: the cookie (whole or joined chunks), else Bearer.
		presented, exact := "", true
		if mode&tokCookie != 0 && cookie != "" {
			presented, exact = cookie, cookieOctets(cookie)
		}
		if exact && presented == "" && mode&tokAuthorization != 0 {
			presented, exact = specBearer(authorization)
		}
		if exact {
			want := http.StatusUnauthorized
			if len(presented) > MaxTokenBytes {
				want = http.StatusRequestHeaderFieldsTooLarge
			} else if _, ok := refIdentifier(presented); ok {
				want = http.StatusOK
			}
			if rec.Code != want {
				t.Fatalf("status %d, want %d for the presented token (%d bytes, mode %#x)", rec.Code, want, len(presented), mode)
			}
		}
		if rec.Code != http.StatusOK {
			return
		}
		var u User
		if err := json.Unmarshal([]byte(body), &u); err != nil || u.Identifier == "" {
			t.Fatalf("200 without a user: %v", err)
		}
		for _, c := range tokenCandidates(cookieHeader, authorization) {
			if id, ok := refIdentifier(c); ok && id == u.Identifier {
				return
			}
		}
		t.Fatalf("200 for user %q, but no token in the request verifies for it (mode %#x)", u.Identifier, mode)
	})
}

// wantDetail checks a JSON error body {"detail": detail}.
func wantDetail(t *testing.T, rec *httptest.ResponseRecorder, detail string) {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("status %d with Content-Type %q", rec.Code, ct)
	}
	var got map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || got["detail"] != detail {
		t.Fatalf("status %d body %q, want detail %q", rec.Code, rec.Body.String(), detail)
	}
}

// Modes of FuzzOAuthStateCallback.
const (
	cbPost          = 1 << iota // POST the parameters as a form_post body
	cbRaw                       // put state and code in unescaped
	cbGenuineCookie             // send the state cookie of a fresh login
	cbGenuineState              // send the state of that fresh login
	cbNoState                   // leave the state parameter out
	cbNoCode                    // leave the code parameter out
)

// FuzzOAuthStateCallback drives GET and POST R/auth/oauth/{provider}/callback
// with arbitrary state, code and oauth_state cookie values, raw or escaped,
// against a provider whose token endpoint only counts calls and refuses.
// Every answer is a 302 to R/login?error=<the code the contract names>,
// clears the state cookie and sets no session cookie; the token endpoint is
// reached exactly for the genuine state of a fresh login in its own cookie
// (then exchange_failed), and the OAuth hook never runs.
func FuzzOAuthStateCallback(f *testing.F) {
	var tokenCalls atomic.Int64
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tokenCalls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"error":"invalid_grant"}`)
	}))
	f.Cleanup(idp.Close)
	a := newFuzzAuth(f, Config{RootPath: "/app", BaseURL: "https://chat.example.com"})
	var hookCalls atomic.Int64
	a.OnOAuth(func(_ context.Context, l OAuthLogin) (*User, error) {
		hookCalls.Add(1)
		return l.User, nil
	})
	p := &Provider{ID: "corp", ClientID: "cid", ClientSecret: "csecret",
		AuthURL: idp.URL + "/authorize", TokenURL: idp.URL + "/token", UserInfoURL: idp.URL + "/userinfo"}
	if err := a.AddProvider(context.Background(), p); err != nil {
		f.Fatal(err)
	}
	// start begins a login and returns its state and sealed state cookie.
	start := func(t *testing.T) (state, cookie string) {
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/app/auth/oauth/corp", nil))
		loc, err := url.Parse(rec.Header().Get("Location"))
		if rec.Code != http.StatusFound || err != nil {
			t.Fatalf("starting a login: %d %v", rec.Code, err)
		}
		for _, c := range rec.Result().Cookies() {
			if c.Name == stateCookieName {
				cookie = c.Value
			}
		}
		return loc.Query().Get("state"), cookie
	}
	for _, s := range []struct {
		state, code, cookie string
		mode                uint8
	}{
		{"s", "c", "", 0},
		{"", "c", "", cbGenuineCookie | cbGenuineState},
		{"", "c", "", cbGenuineCookie},
		{"", "c", "AAAA", cbGenuineState},
		{"", "c", "", cbGenuineCookie | cbGenuineState | cbPost},
		{"", "", "", cbGenuineCookie | cbGenuineState | cbNoCode},
		{"x&error=access_denied", "c", "", cbRaw | cbGenuineCookie},
		{"%zz", "c", "", cbRaw},
		{"a;b", "c", "", cbRaw | cbPost},
		{"s", "c", strings.Repeat("A", 5000), 0},
		{"s", "c", `"quoted"`, cbNoState},
	} {
		f.Add(s.state, s.code, s.cookie, s.mode)
	}
	f.Fuzz(func(t *testing.T, state, code, cookie string, mode uint8) {
		var freshState string
		if mode&(cbGenuineCookie|cbGenuineState) != 0 {
			var freshCookie string
			freshState, freshCookie = start(t)
			if mode&cbGenuineCookie != 0 {
				cookie = freshCookie
			}
			if mode&cbGenuineState != 0 {
				state = freshState
			}
		}
		enc := url.QueryEscape
		if mode&cbRaw != 0 {
			enc = func(s string) string { return s }
		}
		var params []string
		if mode&cbNoState == 0 {
			params = append(params, "state="+enc(state))
		}
		if mode&cbNoCode == 0 {
			params = append(params, "code="+enc(code))
		}
		query := strings.Join(params, "&")
		const target = "/app/auth/oauth/corp/callback"
		var req *http.Request
		if mode&cbPost != 0 {
			req = httptest.NewRequest(http.MethodPost, target, strings.NewReader(query))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			req = httptest.NewRequest(http.MethodGet, target, nil)
			req.URL.RawQuery = query
		}
		if cookie != "" {
			req.Header.Set("Cookie", stateCookieName+"="+cookie)
		}

		// What the contract says the answer is.
		form, perr := url.ParseQuery(query)
		genuine := mode&cbGenuineCookie != 0 && form.Get("state") == freshState
		var wantCode string
		switch {
		case perr != nil || (mode&cbPost != 0 && len(query) > maxBodyBytes):
			wantCode = codeMissingCode // unreadable parameters
		case form.Get("error") != "":
			wantCode = codeAccessDenied
		case form.Get("code") == "":
			wantCode = codeMissingCode
		case form.Get("state") == "":
			wantCode = codeMissingState
		case genuine:
			wantCode = codeExchangeFailed // the state checks out; the fake provider refuses the code
		default:
			wantCode = codeInvalidState
		}

		calls, hooks := tokenCalls.Load(), hookCalls.Load()
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, req)
		if rec.Code != http.StatusFound {
			t.Fatalf("status %d (mode %#x), want 302", rec.Code, mode)
		}
		if loc, want := rec.Header().Get("Location"), "/app/login?error="+wantCode; loc != want {
			t.Fatalf("redirect to %q, want %q (mode %#x)", loc, want, mode)
		}
		// x/oauth2 tries the other client authentication style after a
		// refusal: one exchange may be two calls.
		if n := tokenCalls.Load() - calls; (n > 0) != (wantCode == codeExchangeFailed) {
			t.Fatalf("token endpoint called %d times for error=%s (mode %#x)", n, wantCode, mode)
		}
		if hookCalls.Load() != hooks {
			t.Fatal("OAuth hook called")
		}
		cleared := false
		for _, c := range rec.Result().Cookies() {
			switch {
			case c.Name == stateCookieName:
				cleared = c.MaxAge < 0 && c.Value == ""
			case c.Name == a.CookieName() || strings.HasPrefix(c.Name, a.CookieName()+"_"):
				if c.MaxAge >= 0 {
					t.Fatalf("session cookie %s set by a failed callback", c.Name)
				}
			}
		}
		if !cleared {
			t.Fatalf("state cookie not cleared (mode %#x): %q", mode, rec.Header().Values("Set-Cookie"))
		}
	})
}

// browserNormalize reads a Location value the way a browser's URL parser
// does before resolving it: tabs and newlines dropped, leading and trailing
// C0 controls and spaces trimmed, backslashes as slashes, and %2e in the
// path as a dot (so that %2e%2e is a ".." segment).
func browserNormalize(s string) string {
	s = strings.Map(func(r rune) rune {
		switch r {
		case '\t', '\n', '\r':
			return -1
		case '\\':
			return '/'
		}
		return r
	}, s)
	s = strings.TrimFunc(s, func(r rune) bool { return r <= ' ' })
	p, rest := s, ""
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		p, rest = s[:i], s[i:]
	}
	return strings.NewReplacer("%2e", ".", "%2E", ".").Replace(p) + rest
}

// checkLocalTarget fails t unless target is a path on the app's own origin
// under root, both as written and as a browser would read it.
func checkLocalTarget(t *testing.T, what, target, root string) {
	t.Helper()
	if !strings.HasPrefix(target, "/") || strings.HasPrefix(target, "//") || strings.HasPrefix(target, "/\\") {
		t.Fatalf("%s %q is not a path-absolute reference", what, target)
	}
	for _, r := range target {
		if unicode.IsControl(r) {
			t.Fatalf("%s %q holds control character %U", what, target, r)
		}
	}
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		t.Fatalf("%s %q parses as scheme %q host %q (%v)", what, target, u.Scheme, u.Host, err)
	}
	norm := browserNormalize(target)
	if strings.HasPrefix(norm, "//") {
		t.Fatalf("%s %q reads as %q in a browser: another host", what, target, norm)
	}
	nu, err := url.Parse(norm)
	if err != nil || nu.Scheme != "" || nu.Host != "" {
		t.Fatalf("%s %q reads as scheme %q host %q in a browser (%v)", what, target, nu.Scheme, nu.Host, err)
	}
	base, _ := url.Parse("https://chat.example.com" + root + "/auth/oauth/corp/callback")
	res := base.ResolveReference(nu)
	if res.Scheme != "https" || res.Host != "chat.example.com" {
		t.Fatalf("%s %q resolves to %s", what, target, res)
	}
	// Under the root path, even for a server that decodes %2F before
	// cleaning the path.
	clean := path.Clean(res.Path)
	if root != "" && clean != root && !strings.HasPrefix(clean, root+"/") {
		t.Fatalf("%s %q resolves to path %q, outside %s", what, target, clean, root)
	}
}

// FuzzSafeRedirect: every redirect target safeRedirect accepts, and the
// Location http.Redirect makes of it at the end of the callback, is a path
// on the app's own origin under the root path: "/" but not "//" or "/\",
// no scheme or host, no control characters, also once a browser has turned
// backslashes into slashes and %2e into dots.
func FuzzSafeRedirect(f *testing.F) {
	auths := map[bool]*Auth{false: newFuzzAuth(f, Config{}), true: newFuzzAuth(f, Config{RootPath: "/app"})}
	for _, s := range []string{
		"/app/chat?x=1#top", "/app", "//evil.com", "/\\evil.com", "/app/%2F%2Fevil.com", "/%2f%2fevil.com",
		"/app/../evil", "/app/%2e%2e/evil", "/app/.%2e/evil", "https://evil.com", "/app/\r\nSet-Cookie: x",
		"/app/\u0085", "/app/\t/evil", "/app/x?next=//evil.com", "/app/%5Cevil",
	} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, target string, underRoot bool) {
		a := auths[underRoot]
		if !a.safeRedirect(target) {
			return
		}
		root := a.RootPath()
		checkLocalTarget(t, "accepted redirect", target, root)
		rec := httptest.NewRecorder()
		http.Redirect(rec, httptest.NewRequest(http.MethodGet, root+"/auth/oauth/corp/callback", nil), target, http.StatusFound)
		checkLocalTarget(t, "Location", rec.Header().Get("Location"), root)
	})
}

// fuzzThrottle answers every attempt with the same wait.
type fuzzThrottle struct{ wait time.Duration }

func (th fuzzThrottle) Hit(context.Context, string, int, time.Duration) (time.Duration, error) {
	return th.wait, nil
}
func (fuzzThrottle) Reset(context.Context, string) error   { return nil }
func (fuzzThrottle) Forgive(context.Context, string) error { return nil }

// decodeLoginForm decodes a POST /login body with the standard library,
// independently of the route: a multipart body when the Content-Type says
// multipart/form-data with a boundary, an urlencoded one when it says so,
// else no fields. ok is false when the body cannot be decoded.
func decodeLoginForm(body []byte, contentType string) (username, password string, ok bool) {
	if strings.HasPrefix(contentType, "multipart/form-data") {
		mt, params, err := mime.ParseMediaType(contentType)
		boundary, hasBoundary := params["boundary"]
		if err != nil || mt != "multipart/form-data" || !hasBoundary {
			return "", "", false
		}
		form, err := multipart.NewReader(bytes.NewReader(body), boundary).ReadForm(maxBodyBytes)
		if err != nil {
			return "", "", false
		}
		defer form.RemoveAll()
		first := func(vs []string) string {
			if len(vs) == 0 {
				return ""
			}
			return vs[0]
		}
		return first(form.Value["username"]), first(form.Value["password"]), true
	}
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return "", "", false
	}
	if mt != "application/x-www-form-urlencoded" {
		return "", "", true
	}
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return "", "", false
	}
	return vals.Get("username"), vals.Get("password"), true
}

// Modes of FuzzLoginForm.
const (
	loginAccept    = 1 << iota // the password hook accepts
	loginThrottled             // the throttle refuses every attempt
)

// FuzzLoginForm posts arbitrary bodies with arbitrary Content-Types to
// POST /login. It never panics or answers 5xx; the hook runs exactly when
// the decoded username and password are both non-empty valid UTF-8 (and
// the throttle allows), and receives exactly them; the status is 400 for
// an unusable form, 429 when throttled, 200 or 401 as the hook says, 413
// only for a body over the limit.
func FuzzLoginForm(f *testing.F) {
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	_ = mw.SetBoundary("fuzzboundary")
	_ = mw.WriteField("username", "ada")
	_ = mw.WriteField("password", "p&ss w0rd")
	_ = mw.Close()
	for _, s := range []struct {
		body, contentType string
		mode              uint8
	}{
		{"username=ada&password=pw", "application/x-www-form-urlencoded", loginAccept},
		{"username=ada&password=pw", "application/x-www-form-urlencoded", 0},
		{"username=ada&password=pw", "application/x-www-form-urlencoded; charset=utf-8", loginThrottled},
		{mp.String(), mw.FormDataContentType(), loginAccept},
		{mp.String(), "multipart/form-data", 0},
		{mp.String(), "Multipart/Form-Data; boundary=fuzzboundary", loginAccept},
		{"username=%zz&password=pw", "application/x-www-form-urlencoded", loginAccept},
		{"username=%ff&password=pw", "application/x-www-form-urlencoded", loginAccept},
		{"username=&password=pw", "application/x-www-form-urlencoded", loginAccept},
		{`{"username":"ada","password":"pw"}`, "application/json", loginAccept},
		{"username=ada;password=pw", "", loginAccept},
	} {
		f.Add([]byte(s.body), s.contentType, s.mode)
	}
	f.Fuzz(func(t *testing.T, body []byte, contentType string, mode uint8) {
		var th fuzzThrottle
		if mode&loginThrottled != 0 {
			th.wait = time.Minute
		}
		a := newFuzzAuth(t, Config{Stores: StoresConfig{Throttle: th}})
		var calls int
		var gotUser, gotPassword string
		a.OnPassword(func(_ context.Context, username, password string) (*User, error) {
			calls++
			gotUser, gotPassword = username, password
			if mode&loginAccept != 0 {
				return &User{Identifier: "fuzz-user"}, nil
			}
			return nil, nil
		})
		req := httptest.NewRequest(http.MethodPost, "/login", bytes.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, req)

		if rec.Code >= 500 {
			t.Fatalf("status %d", rec.Code)
		}
		if calls > 1 {
			t.Fatalf("hook called %d times", calls)
		}
		if calls == 1 && (gotUser == "" || gotPassword == "" || !utf8.ValidString(gotUser) || !utf8.ValidString(gotPassword)) {
			t.Fatalf("hook got a username of %d and a password of %d bytes, empty or not UTF-8", len(gotUser), len(gotPassword))
		}
		if len(body) > maxBodyBytes {
			switch rec.Code {
			case http.StatusOK, http.StatusBadRequest, http.StatusUnauthorized, http.StatusRequestEntityTooLarge, http.StatusTooManyRequests:
			default:
				t.Fatalf("status %d for a %d-byte body", rec.Code, len(body))
			}
			return
		}
		username, password, ok := decodeLoginForm(body, contentType)
		usable := ok && username != "" && password != "" && utf8.ValidString(username) && utf8.ValidString(password)
		want, wantCalls := http.StatusBadRequest, 0
		switch {
		case !usable:
		case mode&loginThrottled != 0:
			want = http.StatusTooManyRequests
		case mode&loginAccept != 0:
			want, wantCalls = http.StatusOK, 1
		default:
			want, wantCalls = http.StatusUnauthorized, 1
		}
		if rec.Code != want || calls != wantCalls {
			t.Fatalf("status %d with %d hook calls, want %d with %d (Content-Type %q)", rec.Code, calls, want, wantCalls, contentType)
		}
		if calls == 1 && (gotUser != username || gotPassword != password) {
			t.Fatalf("hook got a username of %d and a password of %d bytes, not the decoded %d and %d",
				len(gotUser), len(gotPassword), len(username), len(password))
		}
		switch want {
		case http.StatusOK:
			if c := rec.Result().Cookies(); len(c) == 0 || c[0].Name != a.CookieName() || c[0].Value == "" {
				t.Fatal("200 without a session cookie")
			}
		case http.StatusTooManyRequests:
			if rec.Header().Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
		}
		if want != http.StatusOK && rec.Header().Get("Content-Type") != "application/json" {
			t.Fatalf("status %d without a JSON body", rec.Code)
		}
	})
}
