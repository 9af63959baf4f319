package chatauth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/chatauth/chatauth/internal/cookiechunk"
	"github.com/chatauth/chatauth/internal/seal"
)

// stateCookieName is the cookie holding the pending OAuth logins.
const stateCookieName = "oauth_state"

// maxPending bounds the logins pending at once in one browser (tabs).
const maxPending = 4

// pendingLogin is one OAuth login between redirect and callback. Several
// travel together in the sealed state cookie, so that logins started in
// parallel tabs do not overwrite each other.
type pendingLogin struct {
	State    string `json:"s"`
	Verifier string `json:"v"`
	Nonce    string `json:"n,omitempty"`
	Provider string `json:"p"`
	Redirect string `json:"r,omitempty"`
	Expires  int64  `json:"e"`
}

// readPending opens the state cookie; a missing, forged or expired cookie
// reads as no pending logins.
func (a *Auth) readPending(r *http.Request) []pendingLogin {
	v, ok := cookiechunk.Lookup(r.Header, stateCookieName)
	if !ok || len(v) > 4096 {
		return nil
	}
	plain, err := seal.Open(a.keys.Load().stateKeys, stateCookieName, v)
	if err != nil {
		return nil
	}
	var list []pendingLogin
	if json.Unmarshal(plain, &list) != nil {
		return nil
	}
	now := a.now().Unix()
	live := list[:0]
	for _, p := range list {
		if p.Expires > now {
			live = append(live, p)
		}
	}
	return live
}

// writePending seals the pending logins into the state cookie, or clears it
// when there are none.
func (a *Auth) writePending(w http.ResponseWriter, r *http.Request, p *Provider, list []pendingLogin) {
	c := a.stateCookie(r, p)
	if len(list) == 0 {
		c.MaxAge = -1
		http.SetCookie(w, &c)
		return
	}
	plain, _ := json.Marshal(list)
	c.Value = seal.Seal(a.keys.Load().stateKeys[0], stateCookieName, plain)
	c.MaxAge = int(a.cfg.StateCookieLifetime / time.Second)
	http.SetCookie(w, &c)
}

// stateCookie is the template of the state cookie: HttpOnly, with the
// session cookie's SameSite and Secure. A provider that POSTs its callback
// (form_post) is a cross-site POST, which carries only SameSite=None
// cookies, which browsers keep only with Secure (localhost counts as
// secure, so this works in development too).
func (a *Auth) stateCookie(r *http.Request, p *Provider) http.Cookie {
	c := a.sessionCookie(r)
	c.Name = stateCookieName
	if p != nil && p.ResponseMode == "form_post" {
		c.SameSite, c.Secure = http.SameSiteNoneMode, true
	}
	return c
}

// savePending adds a login to the state cookie, dropping the oldest when
// more than maxPending are under way.
func (a *Auth) savePending(w http.ResponseWriter, r *http.Request, p *Provider, st pendingLogin) {
	list := append(a.readPending(r), st)
	if len(list) > maxPending {
		list = list[len(list)-maxPending:]
	}
	a.writePending(w, r, p, list)
}

// takePending finds the pending login whose state matches (constant time),
// removes it from the cookie, and checks it was issued for p and never used
// before. When nothing matches, the whole cookie is cleared.
func (a *Auth) takePending(w http.ResponseWriter, r *http.Request, p *Provider, state string) (pendingLogin, error) {
	list := a.readPending(r)
	found := -1
	for i := range list {
		if subtle.ConstantTimeCompare([]byte(list[i].State), []byte(state)) == 1 {
			found = i
		}
	}
	if found < 0 {
		a.writePending(w, r, p, nil)
		if len(list) == 0 {
			return pendingLogin{}, errors.New("no pending login in the state cookie (missing, expired, or forged)")
		}
		return pendingLogin{}, errors.New("state does not match any pending login")
	}
	st := list[found]
	a.writePending(w, r, p, append(list[:found], list[found+1:]...))
	if st.Provider != p.ID {
		return st, fmt.Errorf("state was issued for provider %q, not %q", st.Provider, p.ID)
	}
	// Single use, even if the browser (or an attacker) sends the old cookie
	// again: the store records used states until they expire, atomically
	// (two callbacks racing with one state: one wins), and refuses when it
	// cannot record one.
	first, err := a.cfg.Revocations.FirstUse(r.Context(), "oauth-state:"+hashHex(state), time.Unix(st.Expires, 0))
	switch {
	case err != nil:
		return st, fmt.Errorf("recording state use: %w", err)
	case !first:
		return st, errors.New("state was already used (replay)")
	}
	return st, nil
}

func hashHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:16])
}

// randomToken returns n random bytes in base64url.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
