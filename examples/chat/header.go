package main

import (
	"context"
	"net/http"
	"unicode"

	"github.com/chatauth/chatauth"
)

// maxHeaderIdentity bounds the user name a proxy may send.
const maxHeaderIdentity = 256

// headerLogin is the header hook: the user is the value of the header
// named by CHATAUTH_HEADER_USER, set by an authenticating proxy in front of
// the app (see examples/proxy). chatauth calls it only for requests from
// trusted proxies, so a client cannot name itself.
func headerLogin(userHeader string) chatauth.HeaderFunc {
	return func(_ context.Context, h http.Header) (*chatauth.User, error) {
		id := h.Get(userHeader)
		if !plausibleIdentity(id) {
			return nil, nil
		}
		meta := map[string]any{"provider": "header"}
		if email := h.Get("X-Forwarded-Email"); plausibleIdentity(email) {
			meta["email"] = email
		}
		return &chatauth.User{Identifier: id, Metadata: meta}, nil
	}
}

// plausibleIdentity refuses empty, oversized or control-character values.
func plausibleIdentity(v string) bool {
	if v == "" || len(v) > maxHeaderIdentity {
		return false
	}
	for _, r := range v {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}
