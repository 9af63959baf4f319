package chatauth

import (
	"context"
	"sync"
	"sync/atomic"
)

// hooks are the hooks an Auth calls. Registration builds a new set and
// swaps it in atomically, so that a hook may be registered at any time,
// even while requests are served: each request reads one consistent set,
// and no write ever races a read. A request already past the point where
// it read the set finishes with the hooks it read.
//
// Every hook that answers with a user (PasswordFunc, HeaderFunc, OAuthFunc,
// PersistFunc) follows one rule, Chainlit's Optional[User]: a user accepts;
// nil and a nil error rejects (401 credentialssignin, or
// R/login?error=credentialssignin for OAuth); an error is a failure of the
// hook's own (500, the cause logged, never shown); a panic is recovered and
// treated as an error (500, logged).
type hooks struct {
	password                      PasswordFunc
	logout                        LogoutFunc
	persist                       PersistFunc
	oauth                         OAuthFunc
	proxyHeader, headerCredential *headerMode
}

// hookRegistry holds an Auth's hooks: read without a lock, replaced whole
// under one.
type hookRegistry struct {
	mu  sync.Mutex
	cur atomic.Pointer[hooks]
}

// noHooks are the hooks of an Auth not made by New.
var noHooks hooks

// defaultOAuth is the OAuth hook until OnOAuth registers one: the login's
// User, the provider's user as its MapUser maps it, so that a
// provider works as soon as AddProvider has added it.
func defaultOAuth(_ context.Context, l OAuthLogin) (*User, error) { return l.User, nil }

// hook returns the hooks in force; never nil.
func (a *Auth) hook() *hooks {
	if a == nil {
		return &noHooks
	}
	if h := a.hooks.cur.Load(); h != nil {
		return h
	}
	return &noHooks
}

// setHook registers a hook: change edits a copy of the hooks in force,
// which then replaces them.
func (a *Auth) setHook(change func(*hooks)) {
	a.hooks.mu.Lock()
	defer a.hooks.mu.Unlock()
	h := *a.hook()
	change(&h)
	a.hooks.cur.Store(&h)
}
