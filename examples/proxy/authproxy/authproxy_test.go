package authproxy

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// seen is what the upstream received.
type seen struct {
	Host   string
	Header http.Header
	URI    string
}

// newPair starts an upstream that reports what it received, and the proxy
// in front of it.
func newPair(t *testing.T) (front *httptest.Server) {
	t.Helper()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(seen{Host: r.Host, Header: r.Header, URI: r.RequestURI})
	}))
	t.Cleanup(up.Close)
	h, err := New(Options{Upstream: up.URL, APIKey: "k3y", User: "ada", Email: "ada@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	front = httptest.NewServer(h)
	t.Cleanup(front.Close)
	return front
}

func get(t *testing.T, target string, header ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestForwardsIdentityAndStripsSpoofs(t *testing.T) {
	front := newPair(t)
	resp, body := get(t, front.URL+"/user?x=1",
		APIKeyHeader, "k3y",
		"X-Forwarded-User", "mallory",
		"X-Forwarded-Email", "mallory@evil.example",
		"X_Forwarded_User", "mallory",
		"Cookie", "access_token=abc; "+CookieName+"=whatever; theme=dark")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d %s", resp.StatusCode, body)
	}
	var s seen
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatal(err)
	}
	if got := s.Header.Values("X-Forwarded-User"); len(got) != 1 || got[0] != "ada" {
		t.Errorf("X-Forwarded-User upstream = %q, want [ada]", got)
	}
	if got := s.Header.Values("X-Forwarded-Email"); len(got) != 1 || got[0] != "ada@example.com" {
		t.Errorf("X-Forwarded-Email upstream = %q", got)
	}
	if _, ok := s.Header["X_forwarded_user"]; ok {
		t.Error("the underscore spelling reached the upstream")
	}
	for name := range s.Header {
		if strings.Contains(strings.ToLower(name), "forwarded_user") {
			t.Errorf("header %s reached the upstream", name)
		}
	}
	if s.Header.Get(APIKeyHeader) != "" {
		t.Error("the API key reached the upstream")
	}
	if c := s.Header.Get("Cookie"); c != "access_token=abc; theme=dark" {
		t.Errorf("Cookie upstream = %q, want the app's cookies only", c)
	}
	if s.Host != strings.TrimPrefix(front.URL, "http://") {
		t.Errorf("Host upstream = %q, want the proxy's %q", s.Host, front.URL)
	}
	if s.URI != "/user?x=1" {
		t.Errorf("URI upstream = %q", s.URI)
	}
}

func TestRefusals(t *testing.T) {
	front := newPair(t)
	for name, header := range map[string][]string{
		"nothing":       nil,
		"wrong key":     {APIKeyHeader, "nope"},
		"forged cookie": {"Cookie", CookieName + "=forged"},
		"identity only": {"X-Forwarded-User", "ada"},
	} {
		if resp, _ := get(t, front.URL+"/", header...); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401", name, resp.StatusCode)
		}
	}
	if resp, _ := get(t, front.URL+"/login?api_key=nope"); resp.StatusCode != http.StatusUnauthorized ||
		len(resp.Cookies()) != 0 {
		t.Errorf("wrong ?api_key: status %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
}

func TestKeyInURLBecomesCookie(t *testing.T) {
	front := newPair(t)
	resp, _ := get(t, front.URL+"/chat/login?api_key=k3y&next=%2Fx")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/chat/login?next=%2Fx" {
		t.Fatalf("status %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == CookieName {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || strings.Contains(cookie.Value, "k3y") {
		t.Fatalf("proxy cookie %+v", cookie)
	}
	if resp, body := get(t, front.URL+"/", "Cookie", cookie.String()); resp.StatusCode != http.StatusOK {
		t.Fatalf("with the cookie: status %d %s", resp.StatusCode, body)
	}
}

func TestNewChecksOptions(t *testing.T) {
	for _, o := range []Options{
		{Upstream: "", APIKey: "k", User: "u"},
		{Upstream: "ftp://x", APIKey: "k", User: "u"},
		{Upstream: "http://127.0.0.1:1", User: "u"},
		{Upstream: "http://127.0.0.1:1", APIKey: "k"},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
}

func TestUpstreamDown(t *testing.T) {
	h, err := New(Options{Upstream: "http://127.0.0.1:1", APIKey: "k", User: "u", Log: nil})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set(APIKeyHeader, "k")
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusBadGateway {
		t.Fatalf("status %d, want 502", rec.Code)
	}
}
