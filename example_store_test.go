package chatauth_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/chatauth/chatauth"
)

// "Log out my other devices": EndOtherSessions ends every session of
// the user but the one of the request (the README's snippet, as written).
func ExampleAuth_EndOtherSessions() {
	a, err := chatauth.New(chatauth.Config{Secret: exampleSecret, Logger: quiet})
	if err != nil {
		log.Fatal(err)
	}
	a.OnPassword(func(ctx context.Context, username, password string) (*chatauth.User, error) {
		return &chatauth.User{Identifier: username}, nil
	})
	mux := http.NewServeMux()
	a.Mount(mux)
	mux.Handle("GET /chat", a.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "hello")
	})))

	mux.Handle("POST /sessions/others/end", a.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.EndOtherSessions(r.Context(), chatauth.SessionFrom(r.Context())); err != nil {
			http.Error(w, "try again later", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})))

	srv := httptest.NewServer(mux)
	defer srv.Close()
	browser := func() *http.Client {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar}
		resp, err := c.PostForm(srv.URL+"/login", url.Values{"username": {"ada"}, "password": {"pw"}})
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
		return c
	}
	laptop, phone := browser(), browser()
	show := func(who string) func(*http.Response, error) {
		return func(resp *http.Response, err error) {
			if err != nil {
				log.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			fmt.Println(strings.TrimSpace(fmt.Sprintf("%s %d %s", who, resp.StatusCode, body)))
		}
	}
	show("laptop")(laptop.Post(srv.URL+"/sessions/others/end", "", nil))
	show("laptop")(laptop.Get(srv.URL + "/chat"))
	show("phone")(phone.Get(srv.URL + "/chat"))
	// Output:
	// laptop 204
	// laptop 200 hello
	// phone 401 {"detail":"Invalid authentication token"}
}
