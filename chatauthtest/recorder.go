package chatauthtest

import (
	"context"
	"net/http"
	"slices"
	"sync"

	"github.com/chatauth/chatauth"
)

// Hook names in Call.Hook.
const (
	HookPassword = "password"
	HookHeader   = "header"
	HookLogout   = "logout"
	HookOAuth    = "oauth"
)

// Call is one recorded call of a hook. It holds no secret: not the
// password, not the header values.
type Call struct {
	// Hook is HookPassword, HookHeader or HookLogout.
	Hook string
	// Username is the password hook's username.
	Username string
	// PasswordGiven reports whether the password hook got a non-empty
	// password.
	PasswordGiven bool
	// HeaderNames are the names of the headers the header hook saw,
	// canonical and sorted.
	HeaderNames []string
	// User is the user the password or header hook returned (nil when it
	// rejected), or the user the logout hook was given (nil without a
	// session). A copy.
	User *chatauth.User
	// Provider is the OAuth hook's provider id.
	Provider string
	// Err is the error the password, header or OAuth hook returned.
	Err error
}

// Recorder wraps hooks to record their calls, for tests that assert what
// the library called, with what and how often. The zero value is ready to
// use and safe for concurrent use.
type Recorder struct {
	mu    sync.Mutex
	calls []Call
}

// Calls returns the calls recorded so far, in order.
func (rec *Recorder) Calls() []Call {
	if rec == nil {
		return nil
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return slices.Clone(rec.calls)
}

// Reset forgets the recorded calls.
func (rec *Recorder) Reset() {
	if rec == nil {
		return
	}
	rec.mu.Lock()
	rec.calls = nil
	rec.mu.Unlock()
}

func (rec *Recorder) add(c Call) {
	if rec == nil {
		return
	}
	rec.mu.Lock()
	rec.calls = append(rec.calls, c)
	rec.mu.Unlock()
}

// Password returns a password hook that records each call and answers
// what f answers; a nil f rejects every login.
func (rec *Recorder) Password(f chatauth.PasswordFunc) chatauth.PasswordFunc {
	return func(ctx context.Context, username, password string) (u *chatauth.User, err error) {
		defer func() { // recorded even when f panics
			rec.add(Call{Hook: HookPassword, Username: username, PasswordGiven: password != "", User: copyUser(u), Err: err})
		}()
		if f == nil {
			return nil, nil
		}
		return f(ctx, username, password)
	}
}

// Header returns a header hook that records each call (the header names,
// never their values) and answers what f answers; a nil f rejects every
// request.
func (rec *Recorder) Header(f chatauth.HeaderFunc) chatauth.HeaderFunc {
	return func(ctx context.Context, h http.Header) (u *chatauth.User, err error) {
		names := make([]string, 0, len(h))
		for k := range h {
			names = append(names, http.CanonicalHeaderKey(k))
		}
		slices.Sort(names)
		defer func() { // recorded even when f panics
			rec.add(Call{Hook: HookHeader, HeaderNames: names, User: copyUser(u), Err: err})
		}()
		if f == nil {
			return nil, nil
		}
		return f(ctx, h)
	}
}

// Logout returns a logout hook that records each call and then runs f,
// when not nil.
func (rec *Recorder) Logout(f chatauth.LogoutFunc) chatauth.LogoutFunc {
	return func(w http.ResponseWriter, r *http.Request, u *chatauth.User) {
		rec.add(Call{Hook: HookLogout, User: copyUser(u)}) // before f, which may panic
		if f != nil {
			f(w, r, u)
		}
	}
}

// copyUser copies u, so later changes by the app do not change the record.
func copyUser(u *chatauth.User) *chatauth.User {
	if u == nil {
		return nil
	}
	c := *u
	c.Metadata = cloneClaims(u.Metadata)
	return &c
}

// OAuth wraps an OAuth hook; a nil f accepts the login's user (OAuthLogin.User).
// The recorded call holds the provider and the user, never the tokens.
func (rec *Recorder) OAuth(f chatauth.OAuthFunc) chatauth.OAuthFunc {
	return func(ctx context.Context, l chatauth.OAuthLogin) (*chatauth.User, error) {
		var u *chatauth.User
		var err error
		if f == nil {
			u = l.User
		} else {
			u, err = f(ctx, l)
		}
		rec.add(Call{Hook: HookOAuth, Provider: l.Provider, User: copyUser(u), Err: err})
		return u, err
	}
}
