package chatauth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
)

// No exported function or method panics on nil or zero input: a nil *Auth
// or an Auth{} not made by New answers errors (and its handlers 500), nil
// contexts count as context.Background(), nil handlers as
// http.NotFoundHandler(). TestNoPanicOnNilOrZeroInput holds every exported
// name to it.

// errNotMadeByNew is what the methods of a nil or zero Auth return.
var errNotMadeByNew = errors.New("chatauth: Auth is nil or was not made by New")

// errNeedsRequest is what StartSession and EndSession return without a
// ResponseWriter or a Request.
var errNeedsRequest = errors.New("chatauth: a ResponseWriter and a Request are required")

// madeByNew reports whether a is usable: made by New, not nil or zero.
func (a *Auth) madeByNew() bool { return a != nil && a.mux != nil }

// notMadeByNew is the handler of an Auth not made by New: it cannot tell
// who anyone is, so it answers every request 500 and logs why (on
// slog.Default: such an Auth has no Logger).
func notMadeByNew() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		slog.Default().Error(errNotMadeByNew.Error(), slog.String("path", r.URL.Path))
		writeJSON(w, http.StatusInternalServerError, map[string]string{"detail": "internal error"})
	})
}

// orBackground is ctx, or context.Background() when ctx is nil.
func orBackground(ctx context.Context) context.Context {
	if ctx == nil {
		return context.Background()
	}
	return ctx
}

// orNotFound is h, or http.NotFoundHandler() when h is nil.
func orNotFound(h http.Handler) http.Handler {
	if h == nil {
		return http.NotFoundHandler()
	}
	return h
}
