package chatauthtest

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chatauth/chatauth"
)

func newAuth(t *testing.T, cfg chatauth.Config) *chatauth.Auth {
	t.Helper()
	cfg.Secret = []byte(strings.Repeat("s", 32))
	cfg.Logger = slog.New(slog.DiscardHandler)
	a, err := chatauth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// getUser serves GET R/user of a with the credentials add puts on the
// request, and returns the status and the user.
func getUser(t *testing.T, a *chatauth.Auth, add func(r *http.Request)) (int, chatauth.User) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, a.RootPath()+"/user", nil)
	add(r)
	w := httptest.NewRecorder()
	a.ServeHTTP(w, r)
	var u chatauth.User
	if w.Code == http.StatusOK {
		if err := json.Unmarshal(w.Body.Bytes(), &u); err != nil {
			t.Fatalf("user JSON %s: %v", w.Body, err)
		}
	}
	return w.Code, u
}

func TestSessionHelpers(t *testing.T) {
	a := newAuth(t, chatauth.Config{RootPath: "/chat", RequireLogin: true})
	ada := chatauth.User{Identifier: "ada@example.com", DisplayName: "Ada", Metadata: map[string]any{"role": "admin"}}
	tests := []struct {
		name string
		add  func(r *http.Request)
	}{
		{"SessionCookie", func(r *http.Request) { r.AddCookie(SessionCookie(t, a, ada)) }},
		{"BearerToken", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+BearerToken(t, a, ada)) }},
		{"AuthorizeRequest", func(r *http.Request) { AuthorizeRequest(t, a, r, ada) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, u := getUser(t, a, tt.add)
			if status != http.StatusOK || u.Identifier != ada.Identifier || u.DisplayName != "Ada" || u.Metadata["role"] != "admin" {
				t.Errorf("GET /chat/user: %d %+v", status, u)
			}
		})
	}
	if status, _ := getUser(t, a, func(*http.Request) {}); status != http.StatusUnauthorized {
		t.Errorf("GET /chat/user without a session: %d, want 401", status)
	}
	c := SessionCookie(t, a, ada)
	if c.Name != "access_token" || c.Path != "/chat" || !c.HttpOnly {
		t.Errorf("cookie %v: want access_token, Path /chat, HttpOnly", c)
	}
}

func TestSessionCookieTooLarge(t *testing.T) {
	a := newAuth(t, chatauth.Config{})
	big := chatauth.User{Identifier: "ada", Metadata: map[string]any{"blob": strings.Repeat("x", 4000)}}
	msg := fatalMessage(t, func(tb testing.TB) { SessionCookie(tb, a, big) })
	if !strings.Contains(msg, "BearerToken") {
		t.Errorf("message does not suggest BearerToken: %s", msg)
	}
	if status, _ := getUser(t, a, func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+BearerToken(t, a, big)) }); status != 200 {
		t.Errorf("large bearer token: %d", status)
	}
	msg = fatalMessage(t, func(tb testing.TB) { BearerToken(tb, a, chatauth.User{}) })
	if !strings.Contains(msg, "identifier") {
		t.Errorf("user without identifier: %s", msg)
	}
}
