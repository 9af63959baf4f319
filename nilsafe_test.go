package chatauth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatauth/chatauth"
	"github.com/chatauth/chatauth/chatauthtest"
	"github.com/chatauth/chatauth/internal/testutil"
)

// TestNoPanicOnNilOrZeroInput calls every exported function and method of
// the core module's packages (chatauth, chatauthtest; internal excluded)
// with nil and zero arguments, on nil and zero receivers (a nil *Auth, an
// Auth{} not made by New) as well as real ones, serves the handlers they
// return and reads the channels, and checks that nothing panics: issue
// 11's recipe 10 was WatchSession(ctx, nil) crashing the process from its
// goroutine. A testing.TB argument gets a live recorder (test helpers
// report through it, with t.Fatal); everything else is nil or zero. The
// table is checked against the packages' source, so a new exported name
// without a row fails the test.
func TestNoPanicOnNilOrZeroInput(t *testing.T) {
	calls := nilZeroCalls(t)
	exported := exportedNames(t, ".", "chatauthtest")
	for _, name := range exported {
		if _, ok := calls[name]; !ok {
			t.Errorf("exported %s has no row in nilZeroCalls: add one calling it with nil and zero arguments", name)
		}
	}
	for name := range calls {
		if !slices.Contains(exported, name) {
			t.Errorf("nilZeroCalls has a row for %s, which is not an exported function or method", name)
		}
	}
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for n := range calls {
			if !yield(n) {
				return
			}
		}
	}) {
		for i, call := range calls[name] {
			if p := callRecovering(t, call); p != nil {
				t.Errorf("%s (call %d) panicked: %v", name, i, p)
			}
		}
	}
}

// exportedNames lists the exported functions ("New") and the exported
// methods of exported types ("Auth.Mount") in the non-test files of dirs,
// as "pkg.Name" for packages other than chatauth.
func exportedNames(t *testing.T, dirs ...string) []string {
	t.Helper()
	var names []string
	for _, dir := range dirs {
		prefix := ""
		if dir != "." {
			prefix = filepath.Base(dir) + "."
		}
		for _, name := range testutil.ExportedFuncs(t, dir) {
			names = append(names, prefix+name)
		}
	}
	return names
}

// recorderTB is a testing.TB whose failures are recorded, not reported:
// the helpers of chatauthtest fail through it, as they would a test.
type recorderTB struct {
	testing.TB
	failed atomic.Bool
}

func (r *recorderTB) Error(...any)          { r.failed.Store(true) }
func (r *recorderTB) Errorf(string, ...any) { r.failed.Store(true) }
func (r *recorderTB) Fail()                 { r.failed.Store(true) }
func (r *recorderTB) FailNow()              { r.failed.Store(true); runtime.Goexit() }
func (r *recorderTB) Fatal(...any)          { r.FailNow() }
func (r *recorderTB) Fatalf(string, ...any) { r.FailNow() }
func (r *recorderTB) Skip(...any)           { runtime.Goexit() }
func (r *recorderTB) Skipf(string, ...any)  { runtime.Goexit() }
func (r *recorderTB) SkipNow()              { runtime.Goexit() }
func (r *recorderTB) Failed() bool          { return r.failed.Load() }

// callRecovering runs call on its own goroutine, where a t.Fatal of a
// helper may end it, and returns what it panicked with, if anything.
func callRecovering(t *testing.T, call func(tb testing.TB)) (panicked any) {
	done := make(chan any, 1)
	go func() {
		defer func() { done <- recover() }()
		call(&recorderTB{TB: t})
	}()
	return <-done
}

// serveOnce sends a GET and a POST with a body through h.
func serveOnce(h http.Handler) {
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/login", strings.NewReader("a=b")))
}

// drain waits for a WatchSession channel to give its value or close; t
// is the real test, to report a channel that never does.
func drain(t *testing.T, ch <-chan error) {
	if ch == nil {
		return
	}
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Errorf("WatchSession channel neither answered nor closed")
	}
}

// nilZeroCalls is the table: for each exported name, calls with nil and
// zero arguments, on nil, zero and real receivers.
func nilZeroCalls(t *testing.T) map[string][]func(tb testing.TB) {
	real, err := chatauth.New(chatauth.Config{Secret: []byte("chatauth-test-secret-0123456789abcdef"), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	// Each Auth method is called on a nil *Auth, an Auth{} not made by New
	// and one made by New.
	auths := func() []*chatauth.Auth { return []*chatauth.Auth{nil, {}, real} }
	onAuths := func(f func(tb testing.TB, a *chatauth.Auth)) []func(tb testing.TB) {
		var out []func(tb testing.TB)
		for _, a := range auths() {
			out = append(out, func(tb testing.TB) { f(tb, a) })
		}
		return out
	}
	// Each Provider method is called on a nil one, a zero one and one made
	// by NewProvider (shared: making its RSA key takes a while; Close's row
	// closes it, and the rows after it check a closed one).
	providers := []*chatauthtest.Provider{nil, {}, chatauthtest.NewProvider(t)}
	onProviders := func(f func(tb testing.TB, p *chatauthtest.Provider)) []func(tb testing.TB) {
		var out []func(tb testing.TB)
		for _, p := range providers {
			out = append(out, func(tb testing.TB) { f(tb, p) })
		}
		return out
	}
	recorders := []*chatauthtest.Recorder{nil, {}}
	onRecorders := func(f func(rec *chatauthtest.Recorder)) []func(tb testing.TB) {
		return []func(tb testing.TB){func(testing.TB) {
			for _, rec := range recorders {
				f(rec)
			}
		}}
	}
	one := func(f func(tb testing.TB)) []func(tb testing.TB) { return []func(tb testing.TB){f} }
	var nilCtx context.Context
	// A StateDir is called nil, zero and opened on a fresh directory.
	onStateDirs := func(f func(*chatauth.StateDir)) []func(tb testing.TB) {
		return []func(tb testing.TB){
			func(testing.TB) { f(nil) },
			func(testing.TB) { f(&chatauth.StateDir{}) },
			func(tb testing.TB) {
				d, err := chatauth.OpenStateDir(t.TempDir(), chatauth.StateDirOptions{Secret: make([]byte, 32)})
				if err != nil {
					tb.Fatal(err)
				}
				defer d.Close()
				f(d)
			},
		}
	}

	return map[string][]func(tb testing.TB){
		// chatauth: functions.
		"CheckPassword":     one(func(testing.TB) { chatauth.CheckPassword("", "") }),
		"HashPassword":      one(func(testing.TB) { _, _ = chatauth.HashPassword("") }),
		"SetLogoutRedirect": one(func(testing.TB) { chatauth.SetLogoutRedirect(nil, "") }),
		"New":               one(func(testing.TB) { _, _ = chatauth.New(chatauth.Config{}) }),
		"NewFromEnv":        one(func(testing.TB) { _, _ = chatauth.NewFromEnv() }),
		"ConfigFromEnv":     one(func(testing.TB) { _, _ = chatauth.ConfigFromEnv(nil) }),
		"SessionFrom":       one(func(testing.TB) { chatauth.SessionFrom(nilCtx) }),
		"UserFrom":          one(func(testing.TB) { chatauth.UserFrom(nilCtx) }),
		"CleanPathsOnly":    one(func(testing.TB) { serveOnce(chatauth.CleanPathsOnly(nil)) }),

		// chatauth: methods of Auth.
		"Auth.AddProvider": onAuths(func(_ testing.TB, a *chatauth.Auth) {
			_ = a.AddProvider(nilCtx, nil)
			_ = a.AddProvider(nilCtx, &chatauth.Provider{})
		}),
		"Auth.AllowFraming": onAuths(func(_ testing.TB, a *chatauth.Auth) { serveOnce(a.AllowFraming(nil)) }),
		"Auth.CookieName":   onAuths(func(_ testing.TB, a *chatauth.Auth) { a.CookieName() }),
		"Auth.RootPath":     onAuths(func(_ testing.TB, a *chatauth.Auth) { a.RootPath() }),
		"Auth.EndSession":   onAuths(func(_ testing.TB, a *chatauth.Auth) { _, _ = a.EndSession(nil, nil) }),
		"Auth.IssueToken": onAuths(func(_ testing.TB, a *chatauth.Auth) {
			_, _, _ = a.IssueToken(nil)
			_, _, _ = a.IssueToken(&chatauth.User{})
		}),
		"Auth.Mount":              onAuths(func(_ testing.TB, a *chatauth.Auth) { a.Mount(nil); serveOnce(mounted(a)) }),
		"Auth.OnProxyHeader":      onAuths(func(_ testing.TB, a *chatauth.Auth) { a.OnProxyHeader(nil) }),
		"Auth.OnHeaderCredential": onAuths(func(_ testing.TB, a *chatauth.Auth) { a.OnHeaderCredential(nil, "") }),
		"Auth.CORS":               onAuths(func(_ testing.TB, a *chatauth.Auth) { serveOnce(a.CORS(nil)) }),
		"Auth.FrameAncestors":     onAuths(func(_ testing.TB, a *chatauth.Auth) { a.FrameAncestors() }),
		"Auth.LoginMethods":       onAuths(func(_ testing.TB, a *chatauth.Auth) { a.LoginMethods() }),
		"Auth.IsSafeRedirect":     onAuths(func(_ testing.TB, a *chatauth.Auth) { a.IsSafeRedirect("") }),
		"Auth.EndOtherSessions": onAuths(func(_ testing.TB, a *chatauth.Auth) {
			_ = a.EndOtherSessions(nilCtx, nil)
			_ = a.EndOtherSessions(nilCtx, &chatauth.Session{})
		}),
		"Auth.Close":   onAuths(func(_ testing.TB, a *chatauth.Auth) { _ = a.Close() }),
		"OpenStateDir": one(func(tb testing.TB) { _, _ = chatauth.OpenStateDir("", chatauth.StateDirOptions{}) }),
		"StateDir.Revoke": onStateDirs(func(d *chatauth.StateDir) {
			_ = d.Revoke(nilCtx, chatauth.Revocation{})
		}),
		"StateDir.RevokeUser": onStateDirs(func(d *chatauth.StateDir) { _ = d.RevokeUser(nilCtx, chatauth.UserRevocation{}) }),
		"StateDir.Revoked": onStateDirs(func(d *chatauth.StateDir) {
			_, _ = d.Revoked(nilCtx, nil)
			_, _ = d.Revoked(nilCtx, &chatauth.Session{})
		}),
		"StateDir.FirstUse":    onStateDirs(func(d *chatauth.StateDir) { _, _ = d.FirstUse(nilCtx, "", time.Time{}) }),
		"StateDir.Hit":         onStateDirs(func(d *chatauth.StateDir) { _, _ = d.Hit(nilCtx, "", 0, 0) }),
		"StateDir.Reset":       onStateDirs(func(d *chatauth.StateDir) { _ = d.Reset(nilCtx, "") }),
		"StateDir.Forgive":     onStateDirs(func(d *chatauth.StateDir) { _ = d.Forgive(nilCtx, "") }),
		"StateDir.SaveToken":   onStateDirs(func(d *chatauth.StateDir) { _ = d.SaveToken(nilCtx, "", "", nil) }),
		"StateDir.Token":       onStateDirs(func(d *chatauth.StateDir) { _, _ = d.Token(nilCtx, "", "") }),
		"StateDir.DeleteToken": onStateDirs(func(d *chatauth.StateDir) { _ = d.DeleteToken(nilCtx, "", "") }),
		"StateDir.Close":       onStateDirs(func(d *chatauth.StateDir) { _ = d.Close() }),
		"Auth.OnLogout":        onAuths(func(_ testing.TB, a *chatauth.Auth) { a.OnLogout(nil) }),
		"Auth.OnOAuth":         onAuths(func(_ testing.TB, a *chatauth.Auth) { a.OnOAuth(nil) }),
		"Auth.OnPassword":      onAuths(func(_ testing.TB, a *chatauth.Auth) { a.OnPassword(nil) }),
		"Auth.OnPersist":       onAuths(func(_ testing.TB, a *chatauth.Auth) { a.OnPersist(nil) }),
		"Auth.RedirectURI":     onAuths(func(_ testing.TB, a *chatauth.Auth) { a.RedirectURI(nil, "") }),
		"Auth.RequireUser":     onAuths(func(_ testing.TB, a *chatauth.Auth) { serveOnce(a.RequireUser(nil)) }),
		"Auth.WithUser":        onAuths(func(_ testing.TB, a *chatauth.Auth) { serveOnce(a.WithUser(nil)) }),
		"Auth.EndUserSessions": onAuths(func(_ testing.TB, a *chatauth.Auth) { _ = a.EndUserSessions(nilCtx, "") }),
		"Auth.ServeHTTP":       onAuths(func(_ testing.TB, a *chatauth.Auth) { a.ServeHTTP(nil, nil); serveOnce(a) }),
		"Auth.VerifyRequest":   onAuths(func(_ testing.TB, a *chatauth.Auth) { _, _ = a.VerifyRequest(nil) }),
		"Auth.SetSecrets":      onAuths(func(_ testing.TB, a *chatauth.Auth) { _ = a.SetSecrets(nil) }),
		"Auth.StartSession": onAuths(func(_ testing.TB, a *chatauth.Auth) {
			_, _ = a.StartSession(nil, nil, nil)
			_, _ = a.StartSession(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil), &chatauth.User{})
		}),
		"Auth.TokenSource": onAuths(func(_ testing.TB, a *chatauth.Auth) { _, _ = a.TokenSource(nilCtx, "", "") }),
		"Auth.VerifyToken": onAuths(func(_ testing.TB, a *chatauth.Auth) { _, _ = a.VerifyToken(nilCtx, "") }),
		"Auth.WatchSession": onAuths(func(_ testing.TB, a *chatauth.Auth) {
			drain(t, a.WatchSession(nilCtx, nil))
			drain(t, a.WatchSession(nilCtx, &chatauth.Session{}))
		}),

		// chatauth: methods of the other types.
		"Provider.OpenID": one(func(testing.TB) {
			var p *chatauth.Provider
			p.OpenID()
			(&chatauth.Provider{}).OpenID()
		}),
		"User.MarshalJSON": one(func(testing.TB) { _, _ = chatauth.User{}.MarshalJSON() }),
		"User.UnmarshalJSON": one(func(testing.TB) {
			var u *chatauth.User
			_ = u.UnmarshalJSON(nil)
			_ = (&chatauth.User{}).UnmarshalJSON(nil)
			_ = (&chatauth.User{}).UnmarshalJSON([]byte("null"))
		}),

		// chatauthtest: functions.
		"chatauthtest.AuthorizeRequest": onAuths(func(tb testing.TB, a *chatauth.Auth) {
			chatauthtest.AuthorizeRequest(tb, a, nil, chatauth.User{})
		}),
		"chatauthtest.BearerToken": onAuths(func(tb testing.TB, a *chatauth.Auth) {
			chatauthtest.BearerToken(tb, a, chatauth.User{})
		}),
		"chatauthtest.SessionCookie": onAuths(func(tb testing.TB, a *chatauth.Auth) {
			chatauthtest.SessionCookie(tb, a, chatauth.User{})
		}),
		"chatauthtest.Misbehaviors":       one(func(testing.TB) { chatauthtest.Misbehaviors() }),
		"chatauthtest.NewProvider":        one(func(tb testing.TB) { chatauthtest.NewProvider(tb) }),
		"chatauthtest.Misbehavior.String": one(func(testing.TB) { _ = chatauthtest.Misbehavior(0).String() }),

		// chatauthtest: methods of Provider, on nil, zero and real ones.
		"chatauthtest.Provider.AllowPostLogoutRedirectURI": onProviders(func(_ testing.TB, p *chatauthtest.Provider) { p.AllowPostLogoutRedirectURI("") }),
		"chatauthtest.Provider.AllowRedirectURI":           onProviders(func(_ testing.TB, p *chatauthtest.Provider) { p.AllowRedirectURI("") }),
		"chatauthtest.Provider.Behave":                     onProviders(func(_ testing.TB, p *chatauthtest.Provider) { p.Behave() }),
		"chatauthtest.Provider.Close":                      onProviders(func(_ testing.TB, p *chatauthtest.Provider) { p.Close() }),
		"chatauthtest.Provider.Config":                     onProviders(func(_ testing.TB, p *chatauthtest.Provider) { p.Config("") }),
		"chatauthtest.Provider.Counts":                     onProviders(func(_ testing.TB, p *chatauthtest.Provider) { p.Counts() }),
		"chatauthtest.Provider.DropPreviousKeys":           onProviders(func(_ testing.TB, p *chatauthtest.Provider) { p.DropPreviousKeys() }),
		"chatauthtest.Provider.EndSessions":                onProviders(func(_ testing.TB, p *chatauthtest.Provider) { p.EndSessions() }),
		"chatauthtest.Provider.Endpoint":                   onProviders(func(_ testing.TB, p *chatauthtest.Provider) { p.Endpoint() }),
		"chatauthtest.Provider.KeyID":                      onProviders(func(_ testing.TB, p *chatauthtest.Provider) { p.KeyID() }),
		"chatauthtest.Provider.LastAuthorize":              onProviders(func(_ testing.TB, p *chatauthtest.Provider) { p.LastAuthorize() }),
		"chatauthtest.Provider.LastToken":                  onProviders(func(_ testing.TB, p *chatauthtest.Provider) { p.LastToken() }),
		"chatauthtest.Provider.LastTokenAuthMethod":        onProviders(func(_ testing.TB, p *chatauthtest.Provider) { p.LastTokenAuthMethod() }),
		"chatauthtest.Provider.Login":                      onProviders(func(tb testing.TB, p *chatauthtest.Provider) { p.Login(tb, nil, "") }),
		"chatauthtest.Provider.LoginClient":                onProviders(func(tb testing.TB, p *chatauthtest.Provider) { p.LoginClient(tb, "", "") }),
		"chatauthtest.Provider.Misbehave":                  onProviders(func(_ testing.TB, p *chatauthtest.Provider) { p.Misbehave(0) }),
		"chatauthtest.Provider.Misbehaving":                onProviders(func(_ testing.TB, p *chatauthtest.Provider) { p.Misbehaving(0) }),
		"chatauthtest.Provider.Refreshes":                  onProviders(func(_ testing.TB, p *chatauthtest.Provider) { p.Refreshes() }),
		"chatauthtest.Provider.RotateKey":                  onProviders(func(_ testing.TB, p *chatauthtest.Provider) { p.RotateKey() }),
		"chatauthtest.Provider.SetAuthorizeError":          onProviders(func(_ testing.TB, p *chatauthtest.Provider) { p.SetAuthorizeError("", "") }),
		"chatauthtest.Provider.SetTokenLifetime":           onProviders(func(_ testing.TB, p *chatauthtest.Provider) { p.SetTokenLifetime(0) }),
		"chatauthtest.Provider.SetUser":                    onProviders(func(_ testing.TB, p *chatauthtest.Provider) { p.SetUser(chatauthtest.User{}) }),

		// chatauthtest: methods of Recorder, on nil and zero ones.
		"chatauthtest.Recorder.Calls":    onRecorders(func(rec *chatauthtest.Recorder) { rec.Calls() }),
		"chatauthtest.Recorder.Reset":    onRecorders(func(rec *chatauthtest.Recorder) { rec.Reset() }),
		"chatauthtest.Recorder.Header":   onRecorders(func(rec *chatauthtest.Recorder) { rec.Header(nil) }),
		"chatauthtest.Recorder.Logout":   onRecorders(func(rec *chatauthtest.Recorder) { rec.Logout(nil) }),
		"chatauthtest.Recorder.OAuth":    onRecorders(func(rec *chatauthtest.Recorder) { rec.OAuth(nil) }),
		"chatauthtest.Recorder.Password": onRecorders(func(rec *chatauthtest.Recorder) { rec.Password(nil) }),
	}
}

// mounted is a mux with a's routes, when a can mount them.
func mounted(a *chatauth.Auth) http.Handler {
	mux := http.NewServeMux()
	a.Mount(mux)
	return mux
}
