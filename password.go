package chatauth

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// MaxPasswordBytes is the longest password bcrypt reads: it ignores every
// byte past the 72nd, so HashPassword refuses longer passwords and
// CheckPassword never matches one.
const MaxPasswordBytes = 72

// ErrPasswordTooLong is HashPassword's error for a password over
// MaxPasswordBytes.
var ErrPasswordTooLong = errors.New("chatauth: password longer than 72 bytes: bcrypt would ignore the rest")

// HashPassword returns the bcrypt hash of password, for storing in the
// app's user table (or CHATAUTH_DEMO_USERS). Passwords longer than
// MaxPasswordBytes are refused with ErrPasswordTooLong, as bcrypt would
// silently ignore the rest.
func HashPassword(password string) (string, error) {
	if len(password) > MaxPasswordBytes {
		return "", fmt.Errorf("%w (got %d bytes)", ErrPasswordTooLong, len(password))
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	return string(h), err
}

// dummyHash is compared against when the user does not exist, so that
// unknown and known usernames take the same time. It is made on first use,
// at the default cost, so importing the package costs nothing.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("chatauth-dummy-password"), bcrypt.DefaultCost)
	return h
})

// CheckPassword reports whether password matches the bcrypt hash, made by
// HashPassword or by any bcrypt library ($2a$, $2b$, $2y$: Python's bcrypt,
// as Chainlit apps store them). Pass an empty hash for an unknown user: it
// still spends the time of one bcrypt comparison, so response times do not
// reveal which usernames exist. A password over MaxPasswordBytes never
// matches: bcrypt would compare only its first 72 bytes, so "the right
// password plus anything" would log in (Python's bcrypt 3 and 4 do that).
func CheckPassword(hash, password string) bool {
	if len(password) > MaxPasswordBytes {
		return false
	}
	if hash == "" {
		_ = bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}

// serveLogin answers POST /login: form fields username and password,
// throttled per username and per client address before the hook runs.
func (a *Auth) serveLogin(w http.ResponseWriter, r *http.Request) {
	const method = "password"
	check := a.hook().password
	if check == nil {
		a.deny(w, r, refused(method, http.StatusNotFound, reasonNotEnabled, "password login not enabled", nil))
		return
	}
	username, password, err := loginForm(r)
	if err != nil {
		status, reason := http.StatusBadRequest, reasonMissingField
		if errors.As(err, new(*http.MaxBytesError)) {
			status, reason = http.StatusRequestEntityTooLarge, reasonTooLarge
		}
		if isBodyTimeout(err) {
			status, reason, err = http.StatusRequestTimeout, reasonBodyTimeout, errBodyTimeout
		}
		a.deny(w, r, refused(method, status, reason, err.Error(), nil))
		return
	}
	adm, err := a.admit(r, a.passwordSlots, a.passwordBudgets(r, username))
	if err != nil {
		a.deny(w, r, a.loginCheckDenial(r, method, err))
		return
	}
	u, err := callHook(func() (*User, error) { return check(r.Context(), username, password) })
	// Limits count failures: a success clears the username's count and
	// takes its own attempt back from the address's.
	adm.done(err == nil && u != nil)
	if err != nil {
		a.deny(w, r, hookFailed(method, fmt.Errorf("password hook: %w", err)))
		return
	}
	if u == nil {
		a.deny(w, r, refused(method, http.StatusUnauthorized, reasonCredentials, reasonCredentials, nil))
		return
	}
	a.loginJSON(w, r, login{method: method, user: u, grant: a.newGrant(zeroTime, "")})
}

// loginForm reads username and password from an urlencoded or multipart body.
func loginForm(r *http.Request) (username, password string, err error) {
	ct := r.Header.Get("Content-Type")
	if strings.HasPrefix(ct, "multipart/form-data") {
		err = r.ParseMultipartForm(maxBodyBytes)
	} else {
		err = r.ParseForm()
	}
	if err != nil {
		// One answer for a body over the bound, however the parser put it:
		// the multipart reader may wrap the error, or report it as a
		// malformed body; the bounded body then still says why.
		var tooLarge *http.MaxBytesError
		if !errors.As(err, &tooLarge) {
			_, readErr := r.Body.Read(make([]byte, 1))
			errors.As(readErr, &tooLarge)
			if isBodyTimeout(readErr) {
				err = readErr
			}
		}
		if tooLarge != nil {
			return "", "", tooLarge
		}
		if isBodyTimeout(err) {
			return "", "", errBodyTimeout
		}
		return "", "", fmt.Errorf("malformed form: %s", formError(err))
	}
	username, password = r.PostFormValue("username"), r.PostFormValue("password")
	switch {
	case username == "" && password == "":
		return "", "", errors.New("missing field: username and password")
	case username == "":
		return "", "", errors.New("missing field: username")
	case password == "":
		return "", "", errors.New("missing field: password")
	case !utf8.ValidString(username) || !utf8.ValidString(password):
		// Chainlit's client always sends UTF-8; anything else would reach
		// the hook, and the token, as U+FFFD, making distinct inputs equal.
		return "", "", errors.New("malformed form: not UTF-8")
	}
	return username, password, nil
}

// formError names a form parsing failure without echoing the input.
func formError(err error) string {
	if errors.Is(err, http.ErrNotMultipart) || errors.Is(err, http.ErrMissingBoundary) {
		return "bad multipart body"
	}
	return "cannot parse body"
}

// usernameKey is the throttle key of a username: case-folded and with
// look-alikes folded (foldLookalike), so that "Ada", "ada" and "ada " share
// one budget, and hashed when long, so that a flood of
// 64 KiB usernames cannot fill the throttle's memory.
func usernameKey(username string) string {
	username = strings.ToLower(strings.TrimSpace(strings.Map(foldLookalike, username)))
	if len(username) > 128 {
		username = "sha256:" + hashHex(username)
	}
	return "user:" + username
}

// foldLookalike maps a rune of a username to what an app's own
// normalisation (TrimSpace, NFKC) would likely make of it, for the throttle
// key only, so that "ａｄｍｉｎ", "admin " and "ad\u200dmin" share the budget
// of "admin": fullwidth ASCII becomes ASCII, format characters (zero-width
// joiners and spaces, BOM, soft hyphen, bidi controls) are dropped. It only
// ever merges budgets. Other look-alikes (Cyrillic "а", NFD accents) are
// other usernames to any app, bounded by the per-address budget.
func foldLookalike(r rune) rune {
	switch {
	case r >= 0xFF01 && r <= 0xFF5E:
		return r - 0xFEE0
	case unicode.Is(unicode.Cf, r):
		return -1
	}
	return r
}

// addressKey is the throttle key of a client address. An IPv6 client
// counts as its /64, the block one host or one site usually gets: otherwise
// it could use a fresh address for every attempt.
func addressKey(addr string) string {
	if a, err := netip.ParseAddr(addr); err == nil && a.Is6() && !a.Is4In6() {
		p, _ := a.Prefix(64)
		return "addr:" + p.String()
	}
	return "addr:" + addr
}
