// Package chatauthtest provides utilities for testing apps and libraries
// built on chatauth, in the spirit of net/http/httptest.
//
// NewProvider starts a real OpenID Connect provider on loopback, closed by
// the test's cleanup: discovery, an authorize endpoint that logs in a chosen
// User without a form, a token endpoint that authenticates the client and
// checks single-use codes and PKCE, userinfo, a JWKS whose key can be
// rotated, and RP-initiated logout. It follows OpenID Connect Core 1.0 and
// Discovery 1.0, RFC 6749, RFC 7636 and RFC 7517 strictly, so that a relying
// party's checks are really exercised; Misbehave makes it commit one fault
// at a time (a wrong nonce or audience, an expired or badly signed id_token,
// an error redirect, a token endpoint that fails, hangs or resets) to test
// that each is caught.
//
// Provider.LoginClient drives a whole login the way a browser does, redirects
// and form_post included, and returns an http.Client whose cookie jar holds
// the session; Provider.Login reports where a failing login ended.
//
// SessionCookie, BearerToken and AuthorizeRequest mint a session for a
// chatauth.User without logging in, for tests of handlers behind
// RequireUser. Recorder wraps hooks to record their calls, never their
// secrets.
package chatauthtest
