package chatauth

import (
	"fmt"
	"log/slog"
	"net/http"
	"slices"
)

// serveHeaderLogin answers POST /auth/header: the header hook sees every
// request header, unmodified, in a copy it may keep.
func (a *Auth) serveHeaderLogin(w http.ResponseWriter, r *http.Request) {
	const method = "header"
	if a.header == nil {
		a.reject(w, r, method, http.StatusNotFound, reasonNotEnabled, "header login not enabled", nil)
		return
	}
	trusted := a.fromTrustedProxy(r)
	a.logHeaderNames(r, method, trusted)
	if a.cfg.HeaderAuthTrustedProxiesOnly && !trusted {
		a.reject(w, r, method, http.StatusUnauthorized, reasonUntrustedPeer, reasonCredentials, nil,
			slog.String("peer", peer(r).String()))
		return
	}
	u, err := callHook(func() (*User, error) { return a.header(r.Context(), r.Header.Clone()) })
	if err != nil {
		a.hookFailed(w, r, method, fmt.Errorf("header hook: %w", err))
		return
	}
	if u == nil {
		a.reject(w, r, method, http.StatusUnauthorized, reasonCredentials, reasonCredentials, nil)
		return
	}
	a.login(w, r, method, u, a.newGrant(zeroTime, ""))
}

// logHeaderNames writes, at debug level, the names of the headers the
// request carried and whether its peer is a trusted proxy: what a person
// needs to see why "my header never reaches the hook". Never the values.
func (a *Auth) logHeaderNames(r *http.Request, method string, trusted bool) {
	if !a.cfg.Logger.Enabled(r.Context(), slog.LevelDebug) {
		return
	}
	names := make([]string, 0, len(r.Header))
	for name := range r.Header {
		names = append(names, name)
	}
	slices.Sort(names)
	a.cfg.Logger.LogAttrs(r.Context(), slog.LevelDebug, "chatauth: headers seen",
		slog.String("auth.method", method),
		slog.Any("headers", names),
		slog.String("peer", peer(r).String()),
		slog.Bool("trusted_proxy", trusted),
		slog.String("request_id", requestID(r)))
}
