package chatauthtest_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/chatauth/chatauth"
	"github.com/chatauth/chatauth/chatauthtest"
)

// The examples are compiled, not run: each is the body of a test, and t
// stands for that test's *testing.T.

// A test logs a user in to the app through a real OpenID provider, then
// uses the session like a browser would.
func Example() {
	var t *testing.T // the test's t

	idp := chatauthtest.NewProvider(t) // on loopback, closed by t.Cleanup
	idp.SetUser(chatauthtest.User{Subject: "42", Email: "grace@example.com", EmailVerified: true, Name: "Grace Hopper"})

	// The app under test, with an OpenID provider "oidc" configured from
	// idp.Issuer, idp.ClientID and idp.ClientSecret.
	var app http.Handler
	srv := httptest.NewServer(app)
	defer srv.Close()

	c := idp.LoginClient(t, srv.URL, "oidc") // fails the test unless the login succeeds
	resp, err := c.Get(srv.URL + "/user")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	fmt.Println(resp.Status, idp.Counts().Token)
}

// A test checks that the app refuses an id_token issued to another client.
func ExampleProvider_Misbehave() {
	var t *testing.T // the test's t
	var appURL string

	idp := chatauthtest.NewProvider(t)
	idp.Misbehave(chatauthtest.WrongAudience)
	jar, _ := cookiejar.New(nil)
	_, chain := idp.Login(t, &http.Client{Jar: jar}, appURL+"/auth/oauth/oidc")
	end, _ := url.Parse(chain[len(chain)-1])
	if end.Path != "/login" || end.Query().Get("error") != "invalid_id_token" {
		t.Errorf("login ended on %s, want /login?error=invalid_id_token", end)
	}
}

// A test of a handler behind RequireUser, as a logged-in user, without
// logging in.
func ExampleSessionCookie() {
	var t *testing.T // the test's t

	a, err := chatauth.New(chatauth.Config{Secret: []byte("a test secret of at least 32 bytes")})
	if err != nil {
		t.Fatal(err)
	}
	h := a.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s", chatauth.UserFrom(r.Context()).Identifier)
	}))

	r := httptest.NewRequest("GET", "/chat", nil)
	r.AddCookie(chatauthtest.SessionCookie(t, a, chatauth.User{Identifier: "ada@example.com"}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Println(w.Body) // hello ada@example.com
}

// A test checks what the password hook was called with.
func ExampleRecorder() {
	var t *testing.T // the test's t

	a, _ := chatauth.New(chatauth.Config{Secret: []byte("a test secret of at least 32 bytes")})
	var rec chatauthtest.Recorder
	a.OnPassword(rec.Password(func(ctx context.Context, username, password string) (*chatauth.User, error) {
		return nil, nil // nobody gets in
	}))

	// ... POST /login ...

	for _, c := range rec.Calls() {
		if c.Username != "ada" {
			t.Errorf("password hook called for %q", c.Username)
		}
	}
}
