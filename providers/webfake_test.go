package providers

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatauth/chatauth"

	"github.com/golang-jwt/jwt/v5"
)

// webKey is the RSA key the fake providers sign id_tokens with, made once:
// generating one per test would dominate the run time.
var webKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// answer is a recorded HTTP answer.
type answer struct {
	status      int // 200 when zero
	contentType string
	body        string
	// block makes the answer wait until the request is given up.
	block bool
}

// tokenRequest is what the fake token endpoint received.
type tokenRequest struct {
	where         string // host + path
	form          url.Values
	authorization string
}

// webFake stands in for the providers' real hosts: the client it hands
// out sends every request to it, whatever the URL's host, so presets are
// tested against the exact URLs they build (github.com, graph.microsoft.com,
// a Keycloak server's). It answers GETs from recorded answers keyed by
// host + path, serves the JWKS of webKey at jwksPath, and a token endpoint
// at tokenPaths that authenticates the client as a strict provider does and
// issues an id_token with the claims in idToken (and the login's nonce).
type webFake struct {
	t   *testing.T
	srv *httptest.Server

	mu         sync.Mutex
	answers    map[string]answer
	jwksPaths  map[string]bool
	tokenPaths map[string]bool
	clientID   string
	secret     string
	idToken    jwt.MapClaims // nil: no id_token
	nonce      string
	issParam   string // the iss parameter of the authorization response (RFC 9207), if any
	basicOnly  bool   // refuse client_secret_post, as a client_secret_basic registration does
	tokens     []tokenRequest
	gets       []string // host + path of every GET, in order
}

func newWebFake(t *testing.T) *webFake {
	t.Helper()
	w := &webFake{t: t, answers: map[string]answer{}, tokenPaths: map[string]bool{}, jwksPaths: map[string]bool{}, clientID: "cid", secret: "csecret"}
	w.srv = httptest.NewServer(http.HandlerFunc(w.serve))
	t.Cleanup(w.srv.Close)
	return w
}

// client is the HTTP client of the app under test: every request goes to
// the fake.
func (w *webFake) client() *http.Client {
	return &http.Client{Transport: redirectTransport{to: w.srv.Listener.Addr().String()}, Timeout: 10 * time.Second}
}

type redirectTransport struct{ to string }

func (rt redirectTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Host = r.URL.Host
	r.URL.Scheme, r.URL.Host = "http", rt.to
	return http.DefaultTransport.RoundTrip(r)
}

func (w *webFake) answer(where string, a answer) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.answers[where] = a
}

func (w *webFake) json(where, body string) {
	w.answer(where, answer{contentType: "application/json", body: body})
}

func (w *webFake) tokenEndpoint(where string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.tokenPaths[where] = true
}

func (w *webFake) jwksEndpoint(where string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.jwksPaths[where] = true
}

func (w *webFake) tokenRequests() []tokenRequest {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]tokenRequest(nil), w.tokens...)
}

func (w *webFake) getsOf(where string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, g := range w.gets {
		if g == where {
			n++
		}
	}
	return n
}

func (w *webFake) serve(rw http.ResponseWriter, r *http.Request) {
	where := r.Host + r.URL.Path
	w.mu.Lock()
	isToken, isJWKS := w.tokenPaths[where], w.jwksPaths[where]
	a, ok := w.answers[where]
	if r.Method == http.MethodGet {
		w.gets = append(w.gets, where)
	}
	w.mu.Unlock()
	switch {
	case isToken && r.Method == http.MethodPost:
		w.serveToken(rw, r, where)
	case isJWKS:
		pub := webKey().PublicKey
		writeTestJSON(rw, map[string]any{"keys": []map[string]string{{
			"kty": "RSA", "use": "sig", "alg": "RS256", "kid": "k1",
			"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
		}}})
	case ok && r.Method == http.MethodGet:
		if r.Header.Get("Authorization") != "Bearer at-1" && !strings.Contains(where, "well-known") {
			http.Error(rw, `{"error":"invalid_token"}`, http.StatusUnauthorized)
			return
		}
		if a.block {
			<-r.Context().Done()
			return
		}
		if a.contentType != "" {
			rw.Header().Set("Content-Type", a.contentType)
		}
		if a.status != 0 {
			rw.WriteHeader(a.status)
		}
		_, _ = io.WriteString(rw, a.body)
	default:
		http.Error(rw, "no recorded answer for "+r.Method+" "+where, http.StatusNotFound)
	}
}

// serveToken is a token endpoint that authenticates the client by
// client_secret_post (or only by Basic, with basicOnly) and answers one
// access token, and an id_token when idToken is set.
func (w *webFake) serveToken(rw http.ResponseWriter, r *http.Request, where string) {
	_ = r.ParseForm()
	w.mu.Lock()
	w.tokens = append(w.tokens, tokenRequest{where: where, form: r.PostForm, authorization: r.Header.Get("Authorization")})
	basicOnly, claims, nonce := w.basicOnly, w.idToken, w.nonce
	w.mu.Unlock()
	user, pass, basic := r.BasicAuth()
	var authed bool
	if basicOnly {
		authed = basic && user == w.clientID && pass == w.secret
	} else {
		authed = !basic && r.PostForm.Get("client_id") == w.clientID && r.PostForm.Get("client_secret") == w.secret
	}
	if !authed || r.PostForm.Get("code") != "code-1" || r.PostForm.Get("grant_type") != "authorization_code" {
		rw.Header().Set("Content-Type", "application/json")
		rw.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(rw, `{"error":"invalid_client"}`)
		return
	}
	resp := map[string]any{"access_token": "at-1", "token_type": "Bearer", "expires_in": 3600, "refresh_token": "rt-1"}
	if claims != nil {
		c := jwt.MapClaims{"aud": w.clientID, "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(), "nonce": nonce}
		for k, v := range claims {
			c[k] = v
		}
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
		tok.Header["kid"] = "k1"
		signed, err := tok.SignedString(webKey())
		if err != nil {
			w.t.Errorf("signing the id_token: %v", err)
		}
		resp["id_token"] = signed
	}
	writeTestJSON(rw, resp)
}

func writeTestJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// webLogin is the outcome of one login through the fake.
type webLogin struct {
	login     *chatauth.OAuthLogin // what the hook got; nil when it was not called
	location  string               // where the callback sent the browser
	authorize string               // where the start route sent the browser
	scope     string               // the scope of the authorization request
}

// loginThrough runs an OAuth login of provider id on a, the provider's
// side played by w: the start route, then the callback with code-1 (POSTed
// for form_post providers), as a browser would, without a browser.
func (w *webFake) loginThrough(t *testing.T, a *chatauth.Auth, id string) webLogin {
	t.Helper()
	var out webLogin
	var mu sync.Mutex
	a.OnOAuth(func(_ context.Context, l chatauth.OAuthLogin) (*chatauth.User, error) {
		mu.Lock()
		defer mu.Unlock()
		out.login = &l
		return l.User, nil
	})
	root := a.RootPath()
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, root+"/auth/oauth/"+id, nil))
	if rec.Code != http.StatusFound {
		t.Fatalf("start: %d %s", rec.Code, rec.Body)
	}
	authorize, err := url.Parse(rec.Header().Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	q := authorize.Query()
	out.authorize = authorize.String()
	out.scope = q.Get("scope")
	w.mu.Lock()
	w.nonce = q.Get("nonce")
	iss := w.issParam
	w.mu.Unlock()
	params := url.Values{"code": {"code-1"}, "state": {q.Get("state")}}
	if iss != "" {
		params.Set("iss", iss)
	}
	var req *http.Request
	if q.Get("response_mode") == "form_post" {
		req = httptest.NewRequest(http.MethodPost, root+"/auth/oauth/"+id+"/callback", strings.NewReader(params.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(http.MethodGet, root+"/auth/oauth/"+id+"/callback?"+params.Encode(), nil)
	}
	for _, c := range rec.Result().Cookies() {
		req.AddCookie(c)
	}
	rec = httptest.NewRecorder()
	a.ServeHTTP(rec, req)
	out.location = rec.Header().Get("Location")
	return out
}
