// Package chatauth gives Go chat servers the authentication hooks that
// Chainlit gives Python chat apps, behind the same HTTP contract: Chainlit's
// web client works unchanged, and a Chainlit deployment can move to Go with
// the same secret and environment without logging anyone out.
//
// # Wiring
//
// New checks a Config and returns an *Auth; its error names every missing or
// bad setting at once. Register hooks, then Mount the routes on any
// http.ServeMux (or serve the *Auth itself as an http.Handler):
//
//	a, err := chatauth.New(chatauth.Config{
//		Secret:  []byte(os.Getenv("CHAINLIT_AUTH_SECRET")),
//		BaseURL: "https://chat.example.com",
//	})
//	if err != nil {
//		log.Fatal(err)
//	}
//	a.OnPassword(checkPassword)
//	mux := http.NewServeMux()
//	a.Mount(mux)
//	mux.Handle("GET /chat", a.RequireUser(http.HandlerFunc(chat)))
//
// In a handler, UserFrom(r.Context()) is the logged-in User. RequireUser
// answers 401 without a valid session; WithUser lets anonymous requests
// through. Both accept WebSocket upgrades by cookie only, with the Origin
// checked. NewFromEnv (or ConfigFromEnv) reads Chainlit's variables
// (CHAINLIT_AUTH_SECRET, CHAINLIT_URL, CHAINLIT_ROOT_PATH, ...), so a
// Chainlit .env works as is. Several *Auth values can live in one process.
//
// Routes, under the root path R:
//
//	GET  R/auth/config   which login methods are on
//	POST R/login         form fields username, password -> password hook
//	POST R/auth/header   every request header -> header hook
//	POST R/auth/jwt      Authorization: Bearer <token signed with the secret>
//	GET  R/user          the session's user JSON
//	POST R/logout        ends the session, runs the logout hook
//	GET  R/auth/oauth/{provider} and .../callback, once providers are added
//
// Success is {"success": true}; every error is {"detail": "..."} with
// Content-Type application/json, and a client's mistake is never a 5xx.
// GET R/auth/config also carries the login page's look (Config.UI:
// default_theme and ui). The whole contract, every status and detail,
// the environment and where it differs from Chainlit, is docs/contract.md
// in the repository.
//
// # Hooks
//
// Each hook receives the request's context. Returning a user logs it in;
// returning nil and nil rejects the login (401 credentialssignin);
// returning an error answers 500 "internal error" and logs the cause; a
// panic is recovered and treated the same.
//
//   - OnPassword(func(ctx, username, password)): POST R/login. Keep hashes
//     made by HashPassword and compare with CheckPassword, which spends the
//     same time for unknown users when given an empty hash.
//   - OnHeader(func(ctx, http.Header)): POST R/auth/header. The hook gets a
//     copy of every header, custom ones included; at debug level the names it
//     saw are logged, never the values. Behind an authenticating proxy, set
//     TrustedProxies and HeaderAuthTrustedProxiesOnly, so that only the
//     proxy can log anyone in.
//   - OnOAuth and AddProvider: OAuth and OpenID Connect logins. Presets
//     (GitHub, Google, AzureAD, AzureADHybrid, Okta, Auth0, Descope,
//     Cognito, GitLab, Keycloak, Generic, OIDC) or ProvidersFromEnv build
//     the Provider. Every login uses PKCE (S256) and a sealed, single-use
//     state cookie; OpenID logins also a nonce, and the id_token is checked
//     against the issuer's keys (iss, aud, azp, exp, iat, nonce). The hook
//     gets an OAuthLogin whose DefaultUser is the verified e-mail, or
//     "provider:subject" when the e-mail is not verified, so identities of
//     different providers never collide. Failures end on
//     R/login?error=<code> with one log line saying the real cause.
//   - OnLogout(func(w, r, u)): runs after the session is revoked and its
//     cookies cleared; u is nil without a session, and what it writes to w
//     reaches the client with the cookie deletions.
//   - OnPersist(func(ctx, u)): stores the user at each login (Chainlit's
//     data layer) and returns the stored user, with ID and CreatedAt.
//
// An app with its own login route calls StartSession to issue the same
// session (and EndSession to end one); IssueToken gives a token for
// "Authorization: Bearer" clients.
//
// # Sessions and cookies
//
// A session is a JWT (HS256 over the secret, claims identifier,
// display_name, metadata, exp, iat and a random jti), the same token
// Chainlit issues and accepts. It travels in the cookie access_token,
// split into access_token_0, access_token_1, ... beyond 3000 characters;
// a shorter token deletes the stale chunks. The cookie is HttpOnly,
// SameSite=Lax by default ("none" forces Secure), Secure when the public
// URL (BaseURL, or the request) is https, scoped to the root path, and lives SessionTimeout (15 days by
// default); it is cleared with the same attributes. Requests are
// authenticated by the unchunked cookie, else its chunks, else
// "Authorization: Bearer" (scheme case-insensitive). POST R/auth/jwt
// turns a token into a cookie that ends when the token does.
//
// Config.CookiePath (CHAINLIT_AUTH_COOKIE_PATH) moves the cookie to
// another path that contains the root path. Chainlit sets its cookie at
// Path=/ whatever its root path, so whenever the cookie path is not /,
// logout and every new session also delete the Path=/ copies the request
// carries.
//
// Tokens are read as PyJWT reads them: claim names match exactly (EXP is
// not exp), a name given twice or a crit header refuses the token, and
// numbers in metadata come back as json.Number, keeping their exact text
// (2.0 stays 2.0) through /user, /auth/jwt and renewal.
//
// With IdleTimeout, tokens last that long and RequireUser re-issues the
// cookie (same session, new exp, never past SessionTimeout) once past half
// of it. WatchSession tells a long-lived connection when its session ends.
// MaxCookieChunks bounds the cookies one session takes: a larger one is
// refused when it starts (ErrSessionTooLarge, naming the metadata).
//
// Logout revokes the token's jti in a RevocationStore until its end, and
// RevokeUser ends every session of a user; every authenticated request
// checks the store. SetKeys rotates the secret: new tokens are signed with
// the new one, tokens of the previous ones passed along are still accepted. Verified
// tokens are cached by their exact text, but exp and revocation are checked
// on every request.
//
// # Security defaults
//
//   - A secret shorter than 32 bytes is refused; make one with
//     go run github.com/chatauth/chatauth/cmd/chatauth@latest create-secret.
//     A shorter secret of a Chainlit deployment is accepted as a previous
//     secret only (CHATAUTH_PREVIOUS_SECRETS): it verifies the sessions it
//     signed, with a warning at start-up, and signs nothing.
//   - Only HS256 is accepted: "none", other algorithms and tokens of other
//     secrets are invalid; exp is required.
//   - POST routes refuse cross-origin browser requests (403
//     "cross-origin request rejected"), except from AllowedOrigins.
//   - Password logins are throttled per username and per client address
//     (10 and 100 attempts per 15 minutes by default, see PasswordLimits):
//     429 with Retry-After, before the hook runs.
//   - Bodies over 64 KiB, tokens over MaxTokenBytes and floods of chunk
//     cookies get a 4xx.
//   - X-Forwarded-For, -Proto and -Host are believed only from
//     TrustedProxies.
//   - Logs (log/slog, Config.Logger) never hold passwords, tokens, secrets
//     or header values.
//
// # Logs and reason codes
//
// Every auth decision is one log line with the attributes auth.method,
// auth.outcome, auth.reason, request_id, and user on success. The reason
// codes are stable:
//
//	ok                 success
//	credentialssignin  the hook rejected the login (401)
//	missing_field      username or password missing, or the form is malformed (400)
//	not_enabled        the login method has no hook (404)
//	throttled          too many password attempts (429)
//	cross_origin       cross-origin POST (403)
//	bad_origin         WebSocket upgrade from a foreign Origin (403)
//	no_session         no session token in the request (401)
//	invalid_token      bad signature, algorithm, claims or format (401)
//	expired            the token's exp has passed (401)
//	revoked            logged out, or RevokeUser (401)
//	too_large          body, cookie or token beyond the limits (413, 431)
//	header_missing     POST R/auth/jwt without Authorization (401)
//	bad_scheme         Authorization is not Bearer (401)
//	bad_header_format  Authorization is not two words (401)
//	untrusted_peer     header login from outside TrustedProxies (401)
//	hook_error         a hook returned an error (500)
//	hook_panic         a hook panicked (500)
//	store_unavailable  the RevocationStore or Throttle failed (503)
//	bad_redirect       an OAuth redirect outside the root path (400)
//
// OAuth callbacks redirect to R/login?error=<code> with access_denied,
// missing_code, missing_state, invalid_state, exchange_failed,
// userinfo_failed, invalid_id_token or credentialssignin, logged as the
// reason.
//
// # Errors
//
// VerifyToken and SessionFromRequest return errors that wrap ErrNoSession,
// ErrInvalidToken, ErrExpired, ErrRevoked, ErrTokenTooLarge or
// ErrStoreUnavailable; test them with errors.Is. New's error joins one
// error per bad setting.
package chatauth
