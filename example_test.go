package chatauth_test

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chatauth/chatauth"
)

// exampleSecret stands in for os.Getenv("CHAINLIT_AUTH_SECRET"); make a
// real one with `go run github.com/chatauth/chatauth/cmd/chatauth@latest create-secret`.
var exampleSecret = []byte("example-secret-never-use-this-one-in-production")

// quiet keeps the examples' output to what they print.
var quiet = slog.New(slog.DiscardHandler)

// Wiring chatauth into a plain http.ServeMux: Mount adds the contract's
// routes (POST /login, GET /user, POST /logout, ...), RequireUser protects
// the app's own pages, UserFrom tells a handler who is asking.
func Example() {
	a, err := chatauth.New(chatauth.Config{Secret: exampleSecret, Logger: quiet})
	if err != nil {
		log.Fatal(err) // names every missing or bad setting at once
	}
	a.OnPassword(func(ctx context.Context, username, password string) (*chatauth.User, error) {
		if username == "ada" && password == "lovelace" {
			return &chatauth.User{Identifier: "ada", DisplayName: "Ada"}, nil
		}
		return nil, nil // rejected: 401 credentialssignin
	})

	mux := http.NewServeMux()
	a.Mount(mux)
	mux.Handle("GET /chat", a.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s", chatauth.UserFrom(r.Context()).DisplayName)
	})))

	srv := httptest.NewServer(mux)
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	show := func(resp *http.Response, err error) {
		if err != nil {
			log.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		fmt.Println(resp.StatusCode, strings.TrimSpace(string(body)))
	}

	show(browser.Get(srv.URL + "/chat"))
	show(browser.PostForm(srv.URL+"/login", url.Values{"username": {"ada"}, "password": {"lovelace"}}))
	show(browser.Get(srv.URL + "/chat"))
	show(browser.Post(srv.URL+"/logout", "", nil))
	show(browser.Get(srv.URL + "/chat"))
	// Output:
	// 401 {"detail":"Not authenticated"}
	// 200 {"success":true}
	// 200 hello Ada
	// 200 {"success":true}
	// 401 {"detail":"Not authenticated"}
}

// A password hook over the app's own user table, with bcrypt hashes made by
// HashPassword. CheckPassword with an empty hash still spends the time of a
// comparison, so response times do not reveal which usernames exist.
func ExampleAuth_OnPassword() {
	hash, err := chatauth.HashPassword("pw1") // done once, when the user signs up
	if err != nil {
		log.Fatal(err)
	}
	users := map[string]string{"alice@example.com": hash}

	a, err := chatauth.New(chatauth.Config{Secret: exampleSecret, Logger: quiet})
	if err != nil {
		log.Fatal(err)
	}
	a.OnPassword(func(ctx context.Context, username, password string) (*chatauth.User, error) {
		hash, known := users[username] // "" for an unknown user
		if !chatauth.CheckPassword(hash, password) || !known {
			return nil, nil
		}
		return &chatauth.User{Identifier: username}, nil
	})

	for _, try := range [][2]string{
		{"alice@example.com", "pw1"},
		{"alice@example.com", "guess"},
		{"mallory@example.com", "pw1"},
	} {
		form := url.Values{"username": {try[0]}, "password": {try[1]}}
		req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, req)
		fmt.Println(try[0], try[1], rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	// Output:
	// alice@example.com pw1 200 {"success":true}
	// alice@example.com guess 401 {"detail":"credentialssignin"}
	// mallory@example.com pw1 401 {"detail":"credentialssignin"}
}

// Header login behind an authenticating proxy (oauth2-proxy, an SSO
// gateway) that sets X-Forwarded-User: the README's snippet as written. The
// hook believes the header, so chatauth calls it only for requests from
// TrustedProxies; the first request through the proxy is already logged in.
// A client reaching the app directly cannot claim to be anyone.
func ExampleAuth_OnProxyHeader() {
	secret := exampleSecret
	mux := http.NewServeMux()
	chat := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s", chatauth.UserFrom(r.Context()).Identifier)
	})

	a, err := chatauth.New(chatauth.Config{
		Secret: secret,
		Proxy: chatauth.ProxyConfig{
			Trusted: []string{"10.0.0.5/32"}, // the proxy, and only it
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	a.OnProxyHeader(func(ctx context.Context, h http.Header) (*chatauth.User, error) {
		if u := h.Get("X-Forwarded-User"); u != "" {
			return &chatauth.User{Identifier: u}, nil
		}
		return nil, nil // 401 credentialssignin
	}, "X-Forwarded-User")
	mux.Handle("GET /chat", a.RequireUser(chat)) // the first request is already logged in

	a.Mount(mux)
	for _, try := range []struct{ method, path, peer string }{
		{"GET", "/chat", "10.0.0.5:41000"},    // through the proxy
		{"GET", "/chat", "203.0.113.9:41000"}, // straight to the app
		{"POST", "/auth/header", "203.0.113.9:41000"},
	} {
		req := httptest.NewRequest(try.method, try.path, nil)
		req.RemoteAddr = try.peer // set by net/http from the connection
		req.Header.Set("X-Forwarded-User", "admin")
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		fmt.Println(try.method, try.path, "from", try.peer, rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	// Output:
	// GET /chat from 10.0.0.5:41000 200 hello admin
	// GET /chat from 203.0.113.9:41000 401 {"detail":"Invalid authentication token"}
	// POST /auth/header from 203.0.113.9:41000 401 {"detail":"credentialssignin"}
}

// apiKeys is an app's table of API keys: SHA-256 hashes of the keys, never
// the keys themselves.
type apiKeys map[[sha256.Size]byte]string

// Lookup returns the user whose key this is, or "" for a wrong key,
// comparing with every stored hash in constant time.
func (k apiKeys) Lookup(_ context.Context, key string) (string, error) {
	sum := sha256.Sum256([]byte(key))
	user := ""
	for stored, u := range k {
		if subtle.ConstantTimeCompare(stored[:], sum[:]) == 1 {
			user = u
		}
	}
	return user, nil
}

// Header login with a credential the client holds: an API key in
// X-API-Key, from any address, on every request. The README's snippet as
// written. A script that keeps no cookies is authenticated by the same
// session on every request; a wrong key is 401 credentialssignin and
// counts against the client address like a wrong password.
func ExampleAuth_OnHeaderCredential() {
	a, err := chatauth.New(chatauth.Config{Secret: exampleSecret, Logger: quiet})
	if err != nil {
		log.Fatal(err)
	}
	keys := apiKeys{sha256.Sum256([]byte("key1")): "alice", sha256.Sum256([]byte("key2")): "bob"}

	a.OnHeaderCredential(func(ctx context.Context, h http.Header) (*chatauth.User, error) {
		user, err := keys.Lookup(ctx, h.Get("X-API-Key")) // "" for a wrong key, compared in constant time
		if err != nil || user == "" {
			return nil, err // no user: 401 credentialssignin, counted against the address like a wrong password
		}
		return &chatauth.User{Identifier: user}, nil
	}, "X-API-Key")

	for _, key := range []string{"key1", "key2", "guess"} {
		req := httptest.NewRequest("GET", "/user", nil) // curl -H 'X-API-Key: key1' http://127.0.0.1:8000/user
		req.RemoteAddr = "198.51.100.7:41000"           // any address
		req.Header.Set("X-API-Key", key)
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, req)
		fmt.Println(key, rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	// Output:
	// key1 200 {"identifier":"alice","display_name":null,"metadata":{}}
	// key2 200 {"identifier":"bob","display_name":null,"metadata":{}}
	// guess 401 {"detail":"credentialssignin"}
}

// An app's own login route (Chainlit's custom auth): the app checks
// whatever it likes, then StartSession sets the same session cookie the
// built-in routes set. RequireLogin tells the front end a login is needed.
func ExampleAuth_StartSession() {
	a, err := chatauth.New(chatauth.Config{Secret: exampleSecret, RequireLogin: true, Logger: quiet})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	a.Mount(mux)
	mux.HandleFunc("POST /sso", func(w http.ResponseWriter, r *http.Request) {
		// ... check the app's own credential here ...
		u := &chatauth.User{Identifier: "ada@example.com", DisplayName: "Ada", Metadata: map[string]any{"team": "math"}}
		if _, err := a.StartSession(w, r, u); err != nil {
			http.Error(w, "cannot start a session", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})

	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/sso", nil))
	fmt.Println("POST /sso", rec.Code)

	req := httptest.NewRequest(http.MethodGet, "/user", nil)
	for _, c := range rec.Result().Cookies() {
		req.AddCookie(c)
	}
	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	fmt.Println("GET /user", rec.Code, strings.TrimSpace(rec.Body.String()))
	// Output:
	// POST /sso 204
	// GET /user 200 {"identifier":"ada@example.com","display_name":"Ada","metadata":{"team":"math"}}
}

// The app's own API, called by a page of an embedding site with
// fetch(..., {credentials: "include"}): CORS gives it the EmbedOrigins
// policy of the auth routes, and answers the browser's preflight before
// RequireUser asks for a session the preflight never carries.
func ExampleAuth_CORS() {
	a, err := chatauth.New(chatauth.Config{
		Secret: exampleSecret,
		Origins: chatauth.OriginsConfig{
			Embed: []string{"https://host.example"},
		},
		Logger: quiet,
	})
	if err != nil {
		log.Fatal(err)
	}
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "messages of %s", chatauth.UserFrom(r.Context()).Identifier)
	})
	mux := http.NewServeMux()
	a.Mount(mux)
	mux.Handle("/api/", a.CORS(a.RequireUser(api)))

	token, _, err := a.IssueToken(&chatauth.User{Identifier: "ada"})
	if err != nil {
		log.Fatal(err)
	}
	preflight := httptest.NewRequest(http.MethodOptions, "/api/messages", nil)
	preflight.Header.Set("Origin", "https://host.example")
	preflight.Header.Set("Access-Control-Request-Method", "GET")
	get := httptest.NewRequest(http.MethodGet, "/api/messages", nil)
	get.Header.Set("Origin", "https://host.example")
	get.AddCookie(&http.Cookie{Name: a.CookieName(), Value: token})
	for _, req := range []*http.Request{preflight, get} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		fmt.Println(req.Method, rec.Code, rec.Header().Get("Access-Control-Allow-Origin"),
			rec.Header().Get("Access-Control-Allow-Credentials"))
		if rec.Body.Len() > 0 {
			fmt.Println(rec.Body.String())
		}
	}
	// Output:
	// OPTIONS 204 https://host.example true
	// GET 200 https://host.example true
	// messages of ada
}

// The http.Server settings the README recommends, as written there: a
// client sending its headers or body slowly, or never reading the answer,
// holds a connection for a bounded time.
func Example_httpServer() {
	a, err := chatauth.New(chatauth.Config{Secret: exampleSecret, Logger: quiet, RequireLogin: true})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	a.Mount(mux)

	srv := &http.Server{
		Addr:              ":8000",
		Handler:           chatauth.CleanPathsOnly(mux),
		ReadHeaderTimeout: 10 * time.Second, // request line and headers
		ReadTimeout:       15 * time.Second, // headers and body; lifted once the body is read
		WriteTimeout:      30 * time.Second, // the answer; a stream sets a deadline per event
		IdleTimeout:       2 * time.Minute,  // between requests on a kept-alive connection
		MaxHeaderBytes:    64 << 10,         // a session takes at most 4 cookies of 4 KB
	}

	// srv.ListenAndServe() in a real program; here, a loopback port.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	resp, err := http.Get("http://" + ln.Addr().String() + "/user")
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode)
	// Output: 401
}

// TestReadmeServerSettingsAreTheExample keeps the README's http.Server
// snippet and Example_httpServer the same code, line for line.
func TestReadmeServerSettingsAreTheExample(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "## Serving it: time and size limits")
	_, block, ok2 := strings.Cut(section, "```go\n")
	block, _, ok3 := strings.Cut(block, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("README.md has no http.Server snippet under \"Serving it: time and size limits\"")
	}
	src, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	rest := string(src[strings.Index(string(src), "func Example_httpServer"):])
	for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
		i := strings.Index(rest, "\t"+line+"\n")
		if i < 0 {
			t.Fatalf("README line %q is not in Example_httpServer (in order)", line)
		}
		rest = rest[i+len(line):]
	}
}
