package chatauth

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestCleanPathsOnly is issue 11's recipe 12: POST R//login got a 307 from
// ServeMux, which a browser follows by posting the password again. Through
// Auth.ServeHTTP, and through CleanPathsOnly around an app's mux the routes
// are Mounted on, a path not in canonical form gets 404 and reaches no
// route; canonical paths are served as before. A bare ServeMux, for
// contrast, still answers 307.
func TestCleanPathsOnly(t *testing.T) {
	for _, root := range []string{"", "/chat"} {
		a, _, _ := newTestAuth(t, Config{RootPath: root})
		a.OnPassword(acceptUser(&User{Identifier: "ada"}))
		mux := http.NewServeMux()
		a.Mount(mux)
		for _, tt := range []struct {
			method, path string
			status       int
		}{
			{"POST", root + "//login", 404},
			{"POST", "/" + root + "/login", 404},
			{"POST", root + "/./login", 404},
			{"POST", root + "/auth/../login", 404},
			{"POST", root + "/login/", 404}, // no such route, cleaned or not
			{"GET", root + "//user", 404},
			{"GET", root + "/auth/oauth/x/../../config", 404},
			{"POST", root + "/login", 200},
			{"GET", root + "/user", 401},
		} {
			for name, h := range map[string]http.Handler{"Auth": a, "CleanPathsOnly(mux)": CleanPathsOnly(mux)} {
				req := httptest.NewRequest(tt.method, tt.path, strings.NewReader("username=ada&password=pw"))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != tt.status || rec.Header().Get("Location") != "" {
					t.Errorf("%s: %s %s = %d (Location %q), want %d", name, tt.method, tt.path, rec.Code, rec.Header().Get("Location"), tt.status)
				}
			}
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("POST", root+"//login", nil))
		if rec.Code != http.StatusTemporaryRedirect {
			t.Errorf("bare ServeMux: POST %s//login = %d; the test no longer shows why CleanPathsOnly exists", root, rec.Code)
		}
	}
}

// TestCleanPathsOnlyOverHTTP: the recipe over loopback, as a client sends
// it: the path arrives uncleaned and is refused.
func TestCleanPathsOnlyOverHTTP(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{})
	a.OnPassword(acceptUser(&User{Identifier: "ada"}))
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	c := srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Post(srv.URL+"//login", "application/x-www-form-urlencoded", strings.NewReader("username=ada&password=pw"))
	if err != nil {
		t.Fatal(err)
	}
	wantError(t, resp, http.StatusNotFound, "not found")
	if cookieNamed(resp, "access_token") != nil {
		t.Error("a session was started through //login")
	}
}
