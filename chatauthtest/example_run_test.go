package chatauthtest_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chatauth/chatauth"
	"github.com/chatauth/chatauth/chatauthtest"
)

// These examples run (go test checks their Output), on loopback only.
// Outside a test there is no *testing.T, so they use exampleT, a
// testing.TB just good enough for an example: in a test, pass t.

// exampleT is the testing.TB the runnable examples pass where a test
// passes its t: Cleanup functions run at done, a failure panics.
type exampleT struct {
	testing.TB // nil: only its unexported method is needed
	cleanups   []func()
}

func (t *exampleT) Helper()                   {}
func (t *exampleT) Cleanup(f func())          { t.cleanups = append(t.cleanups, f) }
func (t *exampleT) Fatal(args ...any)         { panic(fmt.Sprint(args...)) }
func (t *exampleT) Fatalf(f string, a ...any) { panic(fmt.Sprintf(f, a...)) }
func (t *exampleT) Errorf(f string, a ...any) { panic(fmt.Sprintf(f, a...)) }

// done runs the Cleanup functions, last registered first.
func (t *exampleT) done() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}

// helloApp is an app with one OpenID provider, "oidc" (idp), and a
// protected route, /hello, served on loopback.
func helloApp(t testing.TB, idp *chatauthtest.Provider) *httptest.Server {
	a, err := chatauth.New(chatauth.Config{
		Secret: []byte("an example secret of at least 32 bytes"),
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	a.OnOAuth(func(ctx context.Context, l chatauth.OAuthLogin) (*chatauth.User, error) {
		return l.User, nil
	})
	if err := a.AddProvider(context.Background(), idp.Config("oidc")); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	a.Mount(mux)
	mux.Handle("GET /hello", a.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s", chatauth.UserFrom(r.Context()).Identifier)
	})))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// get returns the status and body of a GET with c.
func get(c *http.Client, url string) string {
	resp, err := c.Get(url)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.Status + " " + strings.TrimSpace(string(body))
}

// A test starts an OpenID provider on loopback, logs its user in to the
// app through it, and uses the session.
func ExampleNewProvider() {
	t := &exampleT{} // in a test: t
	defer t.done()

	idp := chatauthtest.NewProvider(t) // closed by t.Cleanup
	idp.SetUser(chatauthtest.User{Subject: "42", Email: "grace@example.com", EmailVerified: true, Name: "Grace Hopper"})
	app := helloApp(t, idp)

	c := idp.LoginClient(t, app.URL, "oidc")
	fmt.Println(get(c, app.URL+"/hello"))
	fmt.Println("token requests:", idp.Counts().Token)
	// Output:
	// 200 OK hello grace@example.com
	// token requests: 1
}

// Login follows a login from its first URL and returns every URL of the
// flow, so that a test can check where a refused login ends.
func ExampleProvider_Login() {
	t := &exampleT{}
	defer t.done()

	idp := chatauthtest.NewProvider(t)
	idp.Misbehave(chatauthtest.WrongAudience) // an id_token issued to another client
	app := helloApp(t, idp)

	jar, _ := cookiejar.New(nil) // the state cookie goes from the start to the callback
	_, chain := idp.Login(t, &http.Client{Jar: jar}, app.URL+"/auth/oauth/oidc")
	last := chain[len(chain)-1]
	fmt.Println(last[strings.LastIndex(last, "/"):])
	// Output:
	// /login?error=invalid_id_token
}

// SessionCookie and BearerToken make a session without logging in, to
// test a handler behind RequireUser.
func ExampleBearerToken() {
	t := &exampleT{}
	defer t.done()

	a, err := chatauth.New(chatauth.Config{
		Secret: []byte("an example secret of at least 32 bytes"),
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	h := a.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s", chatauth.UserFrom(r.Context()).Identifier)
	}))
	ada := chatauth.User{Identifier: "ada@example.com"}

	byCookie := httptest.NewRequest("GET", "/chat", nil)
	byCookie.AddCookie(chatauthtest.SessionCookie(t, a, ada))
	byBearer := httptest.NewRequest("GET", "/chat", nil)
	byBearer.Header.Set("Authorization", "Bearer "+chatauthtest.BearerToken(t, a, ada))
	nobody := httptest.NewRequest("GET", "/chat", nil)

	for _, r := range []*http.Request{byCookie, byBearer, nobody} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(w.Code, strings.TrimSpace(w.Body.String()))
	}
	// Output:
	// 200 hello ada@example.com
	// 200 hello ada@example.com
	// 401 {"detail":"Not authenticated"}
}
