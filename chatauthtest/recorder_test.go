package chatauthtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/chatauth/chatauth"
)

func post(a *chatauth.Auth, path string, form url.Values, edit func(r *http.Request)) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if edit != nil {
		edit(r)
	}
	w := httptest.NewRecorder()
	a.ServeHTTP(w, r)
	return w
}

func TestRecorder(t *testing.T) {
	const password, headerValue = "hunter2-secret", "header-value-secret"
	a := newAuth(t, chatauth.Config{})
	var rec Recorder
	errDown := errors.New("directory down")
	a.OnPassword(rec.Password(func(_ context.Context, username, pw string) (*chatauth.User, error) {
		switch {
		case username == "broken":
			return nil, errDown
		case pw == password:
			return &chatauth.User{Identifier: username}, nil
		}
		return nil, nil
	}))
	a.OnHeaderCredential(rec.Header(func(_ context.Context, h http.Header) (*chatauth.User, error) {
		if h.Get("X-Forwarded-User") == "" {
			return nil, nil
		}
		return &chatauth.User{Identifier: "from-proxy"}, nil
	}))
	a.OnLogout(rec.Logout(nil))

	if w := post(a, "/login", url.Values{"username": {"ada"}, "password": {password}}, nil); w.Code != 200 {
		t.Fatalf("login: %d %s", w.Code, w.Body)
	}
	post(a, "/login", url.Values{"username": {"bob"}, "password": {"wrong"}}, nil)
	post(a, "/login", url.Values{"username": {"broken"}, "password": {password}}, nil)
	post(a, "/auth/header", nil, func(r *http.Request) { r.Header.Set("X-Forwarded-User", headerValue) })
	post(a, "/logout", nil, func(r *http.Request) { AuthorizeRequest(t, a, r, chatauth.User{Identifier: "ada"}) })

	calls := rec.Calls()
	if len(calls) != 5 {
		t.Fatalf("%d calls recorded, want 5: %+v", len(calls), calls)
	}
	want := []struct {
		hook, username, user string
		err                  error
	}{
		{HookPassword, "ada", "ada", nil},
		{HookPassword, "bob", "", nil},
		{HookPassword, "broken", "", errDown},
		{HookHeader, "", "from-proxy", nil},
		{HookLogout, "", "ada", nil},
	}
	for i, w := range want {
		c := calls[i]
		user := ""
		if c.User != nil {
			user = c.User.Identifier
		}
		if c.Hook != w.hook || c.Username != w.username || user != w.user || !errors.Is(c.Err, w.err) {
			t.Errorf("call %d = %+v, want %+v", i, c, w)
		}
		if c.Hook == HookPassword && !c.PasswordGiven {
			t.Errorf("call %d: PasswordGiven false", i)
		}
	}
	if !slices.Contains(calls[3].HeaderNames, "X-Forwarded-User") {
		t.Errorf("header names %v lack X-Forwarded-User", calls[3].HeaderNames)
	}
	js, err := json.Marshal(calls)
	if err != nil {
		t.Fatal(err)
	}
	dump := fmt.Sprintf("%+v %s", calls, js)
	if strings.Contains(dump, "hunter2") {
		t.Errorf("a password was recorded: %s", dump)
	}
	if strings.Contains(dump, headerValue) {
		t.Errorf("a header value was recorded: %s", dump)
	}

	rec.Reset()
	if len(rec.Calls()) != 0 {
		t.Error("Reset kept calls")
	}
}

func TestRecorderNilHooksReject(t *testing.T) {
	var rec Recorder
	u, err := rec.Password(nil)(context.Background(), "ada", "pw")
	if u != nil || err != nil {
		t.Errorf("nil password hook: %v, %v", u, err)
	}
	u, err = rec.Header(nil)(context.Background(), http.Header{"X-A": {"1"}})
	if u != nil || err != nil {
		t.Errorf("nil header hook: %v, %v", u, err)
	}
	if n := len(rec.Calls()); n != 2 {
		t.Errorf("%d calls, want 2", n)
	}
}
