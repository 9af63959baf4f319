package chatauth_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/chatauth/chatauth"
)

// New checks the whole Config at once: a missing or bad setting is an
// error that names it, before the server takes a request.
func ExampleNew() {
	_, err := chatauth.New(chatauth.Config{Logger: quiet})
	fmt.Println(err != nil)

	a, err := chatauth.New(chatauth.Config{Secret: exampleSecret, Logger: quiet})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(a.RootPath() == "")
	// Output:
	// true
	// true
}

// Mount adds every route of the contract to a ServeMux, under the root
// path when there is one; the app's own routes stay the app's.
func ExampleAuth_Mount() {
	a, err := chatauth.New(chatauth.Config{Secret: exampleSecret, RootPath: "/chat", Logger: quiet})
	if err != nil {
		log.Fatal(err)
	}
	a.OnPassword(func(ctx context.Context, username, password string) (*chatauth.User, error) {
		return nil, nil // the app's user table goes here
	})
	mux := http.NewServeMux()
	a.Mount(mux)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })

	for _, path := range []string{"/chat/auth/config", "/chat/user", "/healthz"} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		fmt.Println(path, rec.Code)
	}
	// Output:
	// /chat/auth/config 200
	// /chat/user 401
	// /healthz 200
}

// RequireUser answers 401 before the app's handler runs when there is no
// session; with one, UserFrom and SessionFrom tell the handler who asks.
func ExampleAuth_RequireUser() {
	a, err := chatauth.New(chatauth.Config{Secret: exampleSecret, Logger: quiet})
	if err != nil {
		log.Fatal(err)
	}
	api := a.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "threads of %s", chatauth.UserFrom(r.Context()).Identifier)
	}))
	token, _, err := a.IssueToken(&chatauth.User{Identifier: "ada"})
	if err != nil {
		log.Fatal(err)
	}

	for _, auth := range []string{"", "Bearer " + token} {
		req := httptest.NewRequest(http.MethodGet, "/api/threads", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		fmt.Println(rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	// Output:
	// 401 {"detail":"Not authenticated"}
	// 200 threads of ada
}

// WithUser lets every request through and adds the user when there is
// one: a page that greets a visitor by name and still serves strangers.
func ExampleAuth_WithUser() {
	a, err := chatauth.New(chatauth.Config{Secret: exampleSecret, Logger: quiet})
	if err != nil {
		log.Fatal(err)
	}
	home := a.WithUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u := chatauth.UserFrom(r.Context()); u != nil {
			fmt.Fprintf(w, "welcome back, %s", u.Identifier)
			return
		}
		fmt.Fprint(w, "welcome, stranger")
	}))
	token, _, err := a.IssueToken(&chatauth.User{Identifier: "ada"})
	if err != nil {
		log.Fatal(err)
	}

	for _, auth := range []string{"", "Bearer " + token} {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		home.ServeHTTP(rec, req)
		fmt.Println(rec.Code, rec.Body.String())
	}
	// Output:
	// 200 welcome, stranger
	// 200 welcome back, ada
}

// A streaming handler (SSE, WebSocket) ends when its session does: the
// channel WatchSession returns receives ErrRevoked when the user logs out
// (here in another request) or is logged out everywhere, and ErrExpired
// when the session expires.
func ExampleAuth_WatchSession() {
	a, err := chatauth.New(chatauth.Config{Secret: exampleSecret, Logger: quiet})
	if err != nil {
		log.Fatal(err)
	}
	token, session, err := a.IssueToken(&chatauth.User{Identifier: "ada"})
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ended := a.WatchSession(ctx, session)

	logout := httptest.NewRequest(http.MethodPost, "/logout", nil)
	logout.Header.Set("Authorization", "Bearer "+token)
	a.ServeHTTP(httptest.NewRecorder(), logout)

	err = <-ended
	fmt.Println(errors.Is(err, chatauth.ErrRevoked))
	// Output:
	// true
}
