package chatauth

import (
	"log/slog"
	"net/http"
)

// serveLogout answers POST /logout: the session is revoked until its exp,
// every session cookie cleared with the attributes it was set with, and the
// logout hook run. It answers {"success": true} with or without a session.
func (a *Auth) serveLogout(w http.ResponseWriter, r *http.Request) {
	const method = "logout"
	s, err := a.EndSession(w, r)
	if err != nil {
		a.reject(w, r, method, http.StatusServiceUnavailable, reasonStoreDown, "session store unavailable", err)
		return
	}
	var u *User
	attrs := []slog.Attr{}
	if s != nil {
		u = s.User
		attrs = append(attrs, slog.String("user", u.Identifier), slog.String("session", s.ID))
	}
	if a.logout != nil {
		hw := &hookWriter{ResponseWriter: w}
		_, err := callHook(func() (*User, error) { a.logout(hw, r, u); return nil, nil })
		if err != nil {
			if hw.wrote { // too late for a 500, but not too late to say why
				a.logDecision(r, slog.LevelError, method, "rejected", reasonHookPanic, slog.String("error", err.Error()))
				return
			}
			a.hookFailed(w, r, method, err)
			return
		}
		if hw.wrote { // the hook answered itself
			a.logDecision(r, slog.LevelInfo, method, "success", reasonOK, attrs...)
			return
		}
	}
	a.logDecision(r, slog.LevelInfo, method, "success", reasonOK, attrs...)
	writeJSON(w, http.StatusOK, successBody)
}

// hookWriter notes whether a hook wrote a status or body itself.
type hookWriter struct {
	http.ResponseWriter
	wrote bool
}

func (h *hookWriter) WriteHeader(code int) { h.wrote = true; h.ResponseWriter.WriteHeader(code) }
func (h *hookWriter) Write(b []byte) (int, error) {
	h.wrote = true
	return h.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer.
func (h *hookWriter) Unwrap() http.ResponseWriter { return h.ResponseWriter }
