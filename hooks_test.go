package chatauth_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/chatauth/chatauth"
	"github.com/chatauth/chatauth/chatauthtest"
)

// TestHooksRegisteredWhileServing: every On method may run while requests
// are served; under -race, a write that raced a request's read would fail
// the test.
func TestHooksRegisteredWhileServing(t *testing.T) {
	a, err := chatauth.New(chatauth.Config{Secret: []byte(strings.Repeat("h", 32)), Logger: slog.New(slog.DiscardHandler),
		Login: chatauth.LoginConfig{Limits: chatauth.PasswordLimits{PerUsername: 1 << 20, PerAddress: 1 << 20, ChecksPerAddress: 1 << 20}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	accept := func(context.Context, string, string) (*chatauth.User, error) {
		return &chatauth.User{Identifier: "ada"}, nil
	}
	header := func(context.Context, http.Header) (*chatauth.User, error) { return nil, nil }
	oauth := func(_ context.Context, l chatauth.OAuthLogin) (*chatauth.User, error) { return l.User, nil }

	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() { // registers, again and again, while the requests below run
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			a.OnPassword(accept)
			a.OnLogout(func(http.ResponseWriter, *http.Request, *chatauth.User) {})
			a.OnPersist(func(_ context.Context, u *chatauth.User) (*chatauth.User, error) { return u, nil })
			a.OnOAuth(oauth)
			a.OnProxyHeader(header, "X-Forwarded-User")
			a.OnHeaderCredential(header, "X-API-Key")
			if i%2 == 0 {
				a.OnPassword(nil)
				a.OnHeaderCredential(nil)
			}
		}
	}()
	c := srv.Client()
	for range 50 {
		for _, req := range []func() (*http.Response, error){
			func() (*http.Response, error) {
				return c.PostForm(srv.URL+"/login", url.Values{"username": {"ada"}, "password": {"pw"}})
			},
			func() (*http.Response, error) { return c.Get(srv.URL + "/auth/config") },
			func() (*http.Response, error) {
				r, _ := http.NewRequest(http.MethodPost, srv.URL+"/auth/header", nil)
				r.Header.Set("X-API-Key", "k")
				return c.Do(r)
			},
			func() (*http.Response, error) { return c.Post(srv.URL+"/logout", "application/json", nil) },
		} {
			resp, err := req()
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
	}
	close(stop)
	wg.Wait()
}

// TestProviderWorksWithoutOnOAuth: no order trap. A provider added without
// an OAuth hook is listed and logs its User in; OnOAuth(nil) brings
// that default back after a hook.
func TestProviderWorksWithoutOnOAuth(t *testing.T) {
	idp := chatauthtest.NewProvider(t)
	idp.SetUser(chatauthtest.User{Subject: "u-1", Email: "grace@example.com", EmailVerified: true, Name: "Grace"})
	a, err := chatauth.New(chatauth.Config{Secret: []byte(strings.Repeat("o", 32)), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.AddProvider(context.Background(), idp.Config("corp")); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	if got := a.LoginMethods().Providers; len(got) != 1 || got[0].ID != "corp" {
		t.Fatalf("LoginMethods().Providers = %v without OnOAuth, want [corp]", got)
	}
	user := func() string {
		c := idp.LoginClient(t, srv.URL, "corp")
		resp, err := c.Get(srv.URL + "/user")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if body := user(); !strings.Contains(body, `"identifier":"grace@example.com"`) {
		t.Fatalf("/user after a login without OnOAuth: %s", body)
	}
	a.OnOAuth(func(context.Context, chatauth.OAuthLogin) (*chatauth.User, error) {
		return &chatauth.User{Identifier: "hooked"}, nil
	})
	if body := user(); !strings.Contains(body, `"identifier":"hooked"`) {
		t.Fatalf("/user after a login with OnOAuth: %s", body)
	}
	a.OnOAuth(nil)
	if body := user(); !strings.Contains(body, `"identifier":"grace@example.com"`) {
		t.Fatalf("/user after OnOAuth(nil): %s", body)
	}
}
