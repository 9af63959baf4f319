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
// through. Both accept WebSocket upgrades by the session cookie, or by a
// token in the handshake's Sec-WebSocket-Protocol as "bearer.<token>"
// (WebSocketBearerPrefix), and refuse a handshake whose Origin is not the
// app's own, an Origins.Allowed or an Origins.Embed one. The socket library's
// own origin check still applies alongside (coder/websocket's
// OriginPatterns, gorilla/websocket's CheckOrigin): let it accept the
// Origins.Embed too. NewFromEnv (or ConfigFromEnv) reads Chainlit's variables
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
// Each hook receives the request's context. Every hook that decides who a
// user is (password, header, OAuth) follows one rule, Chainlit's
// Optional[User]: returning a user logs it in; returning nil and nil
// rejects the login (401 credentialssignin); returning an error answers
// 500 "internal error" and logs the cause; a panic is recovered and
// treated the same. Hooks may be registered at any time, also while
// requests are served. A provider works without OnOAuth: its login is the
// OAuthLogin's User, so register a hook to decide who may log in.
//
//   - OnPassword(func(ctx, username, password)): POST R/login. Keep hashes
//     made by HashPassword and compare with CheckPassword, which spends the
//     same time for unknown users when given an empty hash.
//   - OnProxyHeader(func(ctx, http.Header), "X-Forwarded-User"): header
//     login behind an authenticating proxy. The hook may believe the
//     identity headers, because it runs only for requests from
//     Proxy.Trusted; from any other peer they are ignored (untrusted_peer).
//   - OnHeaderCredential(func(ctx, http.Header), "X-API-Key"): header login
//     with a secret the client holds (API key, signed token, HMAC), from any
//     address; the hook must verify it. Failures are throttled per address
//     like passwords. Never use it for a bare identity header.
//   - OnOAuth and AddProvider: OAuth and OpenID Connect logins. The
//     presets of package github.com/chatauth/chatauth/providers (GitHub,
//     Google, AzureAD, Okta, Auth0, Descope, Cognito, GitLab, Keycloak,
//     Generic, OIDC) or its FromEnv, which reads Chainlit's OAUTH_*
//     variables, build the Provider. Every login uses PKCE (S256) and a
//     sealed, single-use state cookie; OpenID logins also a nonce, and the
//     id_token is checked against the issuer's keys (iss, aud, azp, exp,
//     iat, nonce). The hook gets an OAuthLogin whose User is the one
//     chatauth would log in, mapped by the provider's MapUser: for presets
//     built in Go, providers.VerifiedUser, the verified e-mail, or
//     "provider:subject" when the e-mail is not verified, so identities of
//     different providers never collide (a Provider built by hand without
//     MapUser gets the same rule); for providers read by FromEnv,
//     providers.ChainlitUser, the identifier Chainlit gave (GitHub's login,
//     Azure AD's userPrincipalName, the e-mail as given), so that a
//     Chainlit app's users keep their history.
//     Failures end on R/login?error=<code> with one log line saying the
//     real cause.
//   - OnLogout(func(w, r, u)): runs after the session is revoked and its
//     cookies cleared; u is nil without a session, and what it writes to w
//     reaches the client with the cookie deletions.
//   - OnPersist(func(ctx, u)): stores the user at each login (Chainlit's
//     data layer) and returns the stored user, with ID and CreatedAt.
//
// Both header hooks run at POST R/auth/header and get a copy of every header,
// custom ones included; and RequireUser, WithUser and GET R/user run them for
// a request carrying one of the named headers, so that its first request is
// logged in (a session cookie on the way back) and the session follows the
// headers: other values replace it, a rejection ends it. A client that keeps
// no cookies reuses the session its headers started. At debug level each
// attempt logs the header names it saw (never the values), the mode and
// whether the peer is a trusted proxy.
//
// An app with its own login route calls StartSession to issue the same
// session (and EndSession to end one); IssueToken gives a token for
// "Authorization: Bearer" clients. Every path that issues a token (login,
// StartSession, IssueToken, renewal, /auth/jwt) applies the same two
// rules: the session lasts at least its configured time and at most
// Session.Timeout, and the token fits in Cookie.MaxChunks cookies (else
// ErrSessionTooLarge), so no token is issued that the same Auth would
// refuse.
//
// # Sessions and cookies
//
// A session is a JWT (HS256 over the secret, claims identifier,
// display_name, metadata, exp, iat and a random jti), the same token
// Chainlit issues and accepts. It travels in the cookie access_token,
// split into access_token_0, access_token_1, ... beyond 3000 characters;
// a shorter token deletes the stale chunks. The cookie is HttpOnly,
// SameSite=Lax by default ("none" forces Secure), Secure when the public
// URL (BaseURL, or the request) is https, scoped to the root path, and lives Session.Timeout (15 days by
// default); it is cleared with the same attributes. Requests are
// authenticated by the unchunked cookie, else its chunks, else
// "Authorization: Bearer" (scheme case-insensitive). POST R/auth/jwt
// turns a token into a cookie that ends when the token does. A request
// carrying two different session cookies (a copy planted at another path
// or domain), or two different chunk sets, is refused as ambiguous, and
// the copies it carries are deleted.
//
// Token exp and cookie Max-Age are rounded up to the second, so a session
// lasts at least its configured time, and the cookie outlives its token by
// less than a second. No session outlives Session.Timeout, whatever exp a
// token presented to POST R/auth/jwt carries.
//
// Config.Cookie.Path (CHAINLIT_AUTH_COOKIE_PATH) moves the cookie to
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
// cookie (same session, new exp, never past Session.Timeout) once past half
// of it. WatchSession tells a long-lived connection when its session ends.
// Renewal happens in the middleware (RequireUser, WithUser) on requests
// carrying the cookie; GET R/user only reads the session, and bearer
// tokens are never renewed.
// Cookie.MaxChunks bounds the cookies one session takes: a larger one is
// refused when it starts (ErrSessionTooLarge, naming the metadata).
//
// Logout revokes the session in a RevocationStore until its end, and
// EndUserSessions ends every session of a user (EndOtherSessions all but the
// current one); every authenticated request checks the store. A session
// is a family of tokens sharing a session id (the sid claim): renewals,
// tokens made from it at POST /auth/jwt, a later login of the same user in
// the same browser. Logging out with any of them ends them all. SetSecrets rotates the secret: new tokens are signed with
// the new one, tokens of the previous ones passed along are still accepted. Verified
// tokens are cached by their exact text, but exp and revocation are checked
// on every request.
//
// Tokens chatauth signs carry a kid header derived from their secret (a
// short hash that does not reveal it), which picks the key to check them
// with; tokens without kid, as Chainlit signs them, are tried with every
// key.
//
// Revocations live in memory unless a store keeps them: a restart then
// forgets every logout, and New logs one warning saying so. Config.Stores.StateDir
// (CHATAUTH_STATE_DIR) keeps them for one instance in a directory, a
// StateDir: each logout is fsynced before it is answered, concurrent ones
// sharing an fsync, and replayed at start-up; redisstore shares them
// between instances.
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
//     "cross-origin request rejected"), except from Origins.Allowed.
//   - Password logins are throttled per username and per client address
//     (10 and 100 attempts per 15 minutes by default, see PasswordLimits):
//     429 with Retry-After, before the hook runs.
//   - Login CPU is bounded: at most Login.PasswordConcurrency password checks
//     (Login.HeaderConcurrency header hook calls) run at once, default
//     GOMAXPROCS-1, others wait up to a second and then get 503 busy; one
//     client address causes at most PasswordLimits.ChecksPerAddress checks
//     per window, whatever their outcome.
//   - Bodies over 64 KiB, tokens over MaxTokenBytes and floods of chunk
//     cookies get a 4xx; a body that has not arrived within
//     BodyReadTimeout (5 s) gets 408 and its connection is closed.
//   - Two different session cookies in one request (a copy planted by
//     another port or subdomain of the host) are refused as ambiguous, and
//     deleted.
//   - Auth.ServeHTTP and CleanPathsOnly answer a non-canonical path
//     ("//login") 404, where ServeMux answers a 307 that re-posts the body.
//   - Every cache that requests can grow is bounded in entries and bytes.
//   - X-Forwarded-For and identity headers are believed only from
//     Proxy.Trusted, and so is X-Forwarded-Host; X-Forwarded-Proto, which
//     only shapes the public URL when BaseURL is unset, also from
//     Proxy.ForwardedAllowIPs (loopback by default, as Chainlit under uvicorn).
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
//	throttled          too many password or credential attempts (429)
//	cross_origin       cross-origin POST (403)
//	bad_origin         WebSocket upgrade from a foreign Origin (403)
//	no_session         no session token in the request (401)
//	invalid_token      bad signature, algorithm, claims or format (401)
//	expired            the token's exp has passed (401)
//	revoked            logged out, or EndUserSessions (401)
//	too_large          body, cookie or token beyond the limits, or a token at R/auth/jwt too large for the cookie budget (413, 431)
//	header_missing     POST R/auth/jwt without Authorization (401)
//	bad_scheme         Authorization is not Bearer (401)
//	bad_header_format  Authorization is not two words (401)
//	untrusted_peer     a proxy's identity headers from outside TrustedProxies (401)
//	hook_error         a hook returned an error (500)
//	hook_panic         a hook panicked (500)
//	store_unavailable  the RevocationStore or Throttle failed (503)
//	store_full         a memory store reached its bound: revocations folded
//	                   into wider cuts (more logout), new throttle keys
//	                   counted approximately (never fewer), or an OAuth
//	                   state's single use not recordable (login refused)
//	bad_redirect       an OAuth redirect outside the root path (400), or a logout hook's target that cannot be a post_logout_redirect_uri (logged)
//	session_too_large  a user from a hook whose token would not fit MaxCookieChunks cookies (500, the log names its largest metadata)
//	busy               every password or header check slot stayed taken (503)
//	no_credential      POST R/auth/header without the credential hook's headers (401)
//	ambiguous_session  two different session cookies or chunk sets (401)
//	body_timeout       the request body did not arrive within BodyReadTimeout (408)
//	memory_only        New's one start-up warning: revocations are kept in memory, so a restart forgets logouts (cures: Config.Stores.StateDir, redisstore)
//	state_tail_skipped a StateDir cut off the unfinished end of its log at start-up: a write a crash interrupted, never acknowledged (warning)
//	state_damaged      a StateDir file lost acknowledged records: every session issued before the start is revoked (error)
//
// OAuth callbacks redirect to R/login?error=<code> with access_denied,
// missing_code, missing_state, invalid_state, exchange_failed,
// userinfo_failed, invalid_id_token or credentialssignin, logged as the
// reason.
//
// # Sign-in page codes
//
// A browser's HTML form post to POST R/login or R/auth/header (a
// navigation, see the loginpage package) is answered 303 instead of JSON:
// to the form's redirect field (a safe relative path) or R/ on success,
// else to R/login?error=<code> (with retry_after=<seconds> when throttled,
// and the redirect kept). These values of R/login?error= and ?notice= come
// on top of the OAuth codes above; a sign-in page puts every one into words
// and shows none it does not know:
//
//	credentialssignin     the hook refused the login
//	missing_field         username or password left empty
//	not_enabled           the login method is off
//	too_large             the form was over the size limit
//	throttled             too many attempts; retry_after says how long to wait
//	store_unavailable     the session store is down
//	server_error          a hook failed (its cause is in the log)
//	session_expired       ErrorSessionExpired: the session ran out
//	logged_out            NoticeLoggedOut (?notice=): after logout
//	logged_out_elsewhere  NoticeLoggedOutElsewhere (?notice=): ended elsewhere
//
// # Errors
//
// VerifyToken and VerifyRequest return errors that wrap ErrNoSession,
// ErrInvalidToken, ErrExpired, ErrRevoked, ErrTokenTooLarge,
// ErrStoreUnavailable or (VerifyRequest) ErrAmbiguousSession; test
// them with errors.Is. New's error joins one
// error per bad setting.
package chatauth
