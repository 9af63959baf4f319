package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/chatauth/chatauth"
)

// chatApp is the small chat app that every router serves: chatauth's
// routes (password login, logout, R/user, R/auth/...), GET R/api/me (the
// user, behind RequireUser) and GET R/api/stream (Server-Sent Events to the
// user until the session ends).
type chatApp struct {
	auth *chatauth.Auth
	root string
	// tick is the time between two stream events.
	tick time.Duration
}

// newChatApp makes the Auth from cfg, with a password hook over users
// (username to bcrypt hash, as chatauth.HashPassword makes them).
func newChatApp(cfg chatauth.Config, users map[string]string, tick time.Duration) (*chatApp, error) {
	a, err := chatauth.New(cfg)
	if err != nil {
		return nil, err
	}
	a.OnPassword(func(_ context.Context, username, password string) (*chatauth.User, error) {
		// An unknown user gets "": CheckPassword then spends the same time.
		if !chatauth.CheckPassword(users[username], password) {
			return nil, nil // 401 credentialssignin
		}
		return &chatauth.User{Identifier: username}, nil
	})
	if tick <= 0 {
		tick = time.Second
	}
	return &chatApp{auth: a, root: a.RootPath(), tick: tick}, nil
}

// me answers GET R/api/me with the logged-in user's JSON.
func (app *chatApp) me(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, chatauth.UserFrom(r.Context()))
}

// stream answers GET R/api/stream with Server-Sent Events: a "message"
// event for the user at once and then every tick, until the client leaves
// or the session ends, which a last "session_ended" event announces
// ({"reason": "revoked"} after a logout, "expired" at its end).
func (app *chatApp) stream(w http.ResponseWriter, r *http.Request) {
	s := chatauth.SessionFrom(r.Context())
	ended := app.auth.WatchSession(r.Context(), s)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	ticker := time.NewTicker(app.tick)
	defer ticker.Stop()
	for n := 1; ; n++ {
		msg := map[string]any{"n": n, "user": s.User.Identifier}
		if err := writeEvent(w, rc, "message", msg); err != nil {
			return // the client went away
		}
		select {
		case err, ok := <-ended:
			// Closed without a value (!ok) means the request's context ended.
			if ok {
				_ = writeEvent(w, rc, "session_ended", map[string]string{"reason": endReason(err)})
			}
			return
		case <-ticker.C:
		}
	}
}

// endReason names the error WatchSession reported.
func endReason(err error) string {
	if errors.Is(err, chatauth.ErrExpired) {
		return "expired"
	}
	return "revoked"
}

// writeEvent writes one Server-Sent Event with a JSON payload and flushes
// it, so that it leaves at once rather than when a buffer fills.
func writeEvent(w io.Writer, rc *http.ResponseController, event string, data any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b); err != nil {
		return err
	}
	return rc.Flush()
}

// writeJSON answers 200 with v as JSON.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
