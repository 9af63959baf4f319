package chatauth_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"

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
// gateway) that sets X-Forwarded-User. HeaderAuthTrustedProxiesOnly makes
// chatauth refuse the header from anyone but the proxy, without even calling
// the hook: a client reaching the app directly cannot claim to be anyone.
func ExampleAuth_OnHeader() {
	a, err := chatauth.New(chatauth.Config{
		Secret:                       exampleSecret,
		TrustedProxies:               []string{"10.0.0.0/8"},
		HeaderAuthTrustedProxiesOnly: true,
		Logger:                       quiet,
	})
	if err != nil {
		log.Fatal(err)
	}
	a.OnHeader(func(ctx context.Context, h http.Header) (*chatauth.User, error) {
		name := h.Get("X-Forwarded-User")
		if name == "" {
			return nil, nil
		}
		return &chatauth.User{Identifier: name}, nil
	})

	for _, peer := range []string{"10.0.0.5:41000", "203.0.113.9:41000"} {
		req := httptest.NewRequest(http.MethodPost, "/auth/header", nil)
		req.RemoteAddr = peer // set by net/http from the connection
		req.Header.Set("X-Forwarded-User", "ada")
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, req)
		fmt.Println(peer, rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	// Output:
	// 10.0.0.5:41000 200 {"success":true}
	// 203.0.113.9:41000 401 {"detail":"credentialssignin"}
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
