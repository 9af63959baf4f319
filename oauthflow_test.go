package chatauth

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

// Modes of FuzzOAuthStateCallback.
const (
	cbPost          = 1 << iota // POST the parameters as a form_post body
	cbRaw                       // put state and code in unescaped
	cbGenuineCookie             // send the state cookie of a fresh login
	cbGenuineState              // send the state of that fresh login
	cbNoState                   // leave the state parameter out
	cbNoCode                    // leave the code parameter out
)

// FuzzOAuthStateCallback drives GET and POST R/auth/oauth/{provider}/callback
// with arbitrary state, code and oauth_state cookie values, raw or escaped,
// against a provider whose token endpoint only counts calls and refuses.
// Every answer is a 302 to R/login?error=<the code the contract names>,
// clears the state cookie and sets no session cookie; the token endpoint is
// reached exactly for the genuine state of a fresh login in its own cookie
// (then exchange_failed), and the OAuth hook never runs.
func FuzzOAuthStateCallback(f *testing.F) {
	var tokenCalls atomic.Int64
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tokenCalls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"error":"invalid_grant"}`)
	}))
	f.Cleanup(idp.Close)
	a := newFuzzAuth(f, Config{RootPath: "/app", BaseURL: "https://chat.example.com"})
	var hookCalls atomic.Int64
	a.OnOAuth(func(_ context.Context, l OAuthLogin) (*User, error) {
		hookCalls.Add(1)
		return l.User, nil
	})
	p := &Provider{ID: "corp", ClientID: "cid", ClientSecret: "csecret",
		AuthURL: idp.URL + "/authorize", TokenURL: idp.URL + "/token", UserInfoURL: idp.URL + "/userinfo"}
	if err := a.AddProvider(context.Background(), p); err != nil {
		f.Fatal(err)
	}
	// start begins a login and returns its state and sealed state cookie.
	start := func(t *testing.T) (state, cookie string) {
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/app/auth/oauth/corp", nil))
		loc, err := url.Parse(rec.Header().Get("Location"))
		if rec.Code != http.StatusFound || err != nil {
			t.Fatalf("starting a login: %d %v", rec.Code, err)
		}
		for _, c := range rec.Result().Cookies() {
			if c.Name == stateCookieName {
				cookie = c.Value
			}
		}
		return loc.Query().Get("state"), cookie
	}
	for _, s := range []struct {
		state, code, cookie string
		mode                uint8
	}{
		{"s", "c", "", 0},
		{"", "c", "", cbGenuineCookie | cbGenuineState},
		{"", "c", "", cbGenuineCookie},
		{"", "c", "AAAA", cbGenuineState},
		{"", "c", "", cbGenuineCookie | cbGenuineState | cbPost},
		{"", "", "", cbGenuineCookie | cbGenuineState | cbNoCode},
		{"x&error=access_denied", "c", "", cbRaw | cbGenuineCookie},
		{"%zz", "c", "", cbRaw},
		{"a;b", "c", "", cbRaw | cbPost},
		{"s", "c", strings.Repeat("A", 5000), 0},
		{"s", "c", `"quoted"`, cbNoState},
	} {
		f.Add(s.state, s.code, s.cookie, s.mode)
	}
	f.Fuzz(func(t *testing.T, state, code, cookie string, mode uint8) {
		var freshState string
		if mode&(cbGenuineCookie|cbGenuineState) != 0 {
			var freshCookie string
			freshState, freshCookie = start(t)
			if mode&cbGenuineCookie != 0 {
				cookie = freshCookie
			}
			if mode&cbGenuineState != 0 {
				state = freshState
			}
		}
		enc := url.QueryEscape
		if mode&cbRaw != 0 {
			enc = func(s string) string { return s }
		}
		var params []string
		if mode&cbNoState == 0 {
			params = append(params, "state="+enc(state))
		}
		if mode&cbNoCode == 0 {
			params = append(params, "code="+enc(code))
		}
		query := strings.Join(params, "&")
		const target = "/app/auth/oauth/corp/callback"
		var req *http.Request
		if mode&cbPost != 0 {
			req = httptest.NewRequest(http.MethodPost, target, strings.NewReader(query))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			req = httptest.NewRequest(http.MethodGet, target, nil)
			req.URL.RawQuery = query
		}
		if cookie != "" {
			req.Header.Set("Cookie", stateCookieName+"="+cookie)
		}

		// What the contract says the answer is.
		form, perr := url.ParseQuery(query)
		genuine := mode&cbGenuineCookie != 0 && form.Get("state") == freshState
		var wantCode string
		switch {
		case perr != nil || (mode&cbPost != 0 && len(query) > maxBodyBytes):
			wantCode = codeMissingCode // unreadable parameters
		case form.Get("error") != "":
			wantCode = codeAccessDenied
		case form.Get("code") == "":
			wantCode = codeMissingCode
		case form.Get("state") == "":
			wantCode = codeMissingState
		case genuine:
			wantCode = codeExchangeFailed // the state checks out; the fake provider refuses the code
		default:
			wantCode = codeInvalidState
		}

		calls, hooks := tokenCalls.Load(), hookCalls.Load()
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, req)
		if rec.Code != http.StatusFound {
			t.Fatalf("status %d (mode %#x), want 302", rec.Code, mode)
		}
		if loc, want := rec.Header().Get("Location"), "/app/login?error="+wantCode; loc != want {
			t.Fatalf("redirect to %q, want %q (mode %#x)", loc, want, mode)
		}
		// x/oauth2 tries the other client authentication style after a
		// refusal: one exchange may be two calls.
		if n := tokenCalls.Load() - calls; (n > 0) != (wantCode == codeExchangeFailed) {
			t.Fatalf("token endpoint called %d times for error=%s (mode %#x)", n, wantCode, mode)
		}
		if hookCalls.Load() != hooks {
			t.Fatal("OAuth hook called")
		}
		cleared := false
		for _, c := range rec.Result().Cookies() {
			switch {
			case c.Name == stateCookieName:
				cleared = c.MaxAge < 0 && c.Value == ""
			case c.Name == a.CookieName() || strings.HasPrefix(c.Name, a.CookieName()+"_"):
				if c.MaxAge >= 0 {
					t.Fatalf("session cookie %s set by a failed callback", c.Name)
				}
			}
		}
		if !cleared {
			t.Fatalf("state cookie not cleared (mode %#x): %q", mode, rec.Header().Values("Set-Cookie"))
		}
	})
}
