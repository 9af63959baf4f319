//go:build loadtest

// Package loadtest holds chatauth's load and fault tests. It has no API:
// every file carries the loadtest build tag, so that `go test ./...` and
// `go vet ./...` skip it and the ordinary test run stays fast. Run it with
//
//	go test -race -count=1 -tags loadtest ./loadtest/
//
// (add -v to see the numbers). Under -race on two cores it takes about 50 s,
// 20 s of which are the load test, whose length is set with
// -loadtest.duration (default 20s) and concurrency with -loadtest.clients
// (default 200):
//
//	go test -race -count=1 -tags loadtest ./loadtest/ -args -loadtest.duration=5s
//
// What it checks, each test on loopback httptest servers only:
//
//   - TestLoadLoginUserLogout: 200 concurrent clients, each with its own
//     cookie jar, loop over POST /login, GET /user, GET of an app route behind
//     RequireUser, POST /logout, GET /user (now 401) and GET /user with the
//     logged-out token as a bearer (401: revoked) for the test's duration.
//     Half of them send the Origin and Sec-Fetch-Site headers of a
//     same-origin browser, half send neither, as non-browser clients do.
//     Every answer must have the expected status and body, none may be a 5xx,
//     and once the clients' idle connections are closed the goroutine count
//     must come back to what it was before the load. The address limit of
//     the password throttle is raised: all clients share 127.0.0.1, and
//     each correct login counts against it while in flight, until its
//     success is forgiven.
//   - TestFaultyProvider: OAuth logins against providers that hang, reset
//     the connection, or answer garbage (not JSON, a wrong content type,
//     JSON cut short, a body shorter than its Content-Length) at the token,
//     userinfo and JWKS endpoints, 50 concurrent logins per fault, with
//     Config.OAuth.Timeout at 2s: each must end on a 302 to
//     R/login?error=<code> within the time-out plus a margin, without a 5xx.
//     The same faults at the discovery endpoint must make AddProvider fail
//     in time. chatauthtest's misbehaviours are used where they exist
//     (SlowToken, ResetConnection, GarbageToken, UserinfoError), a faulty
//     httptest server of the package's own for the rest.
//   - TestLoginFlood: 64 client addresses (X-Forwarded-For from a trusted
//     proxy on loopback) flood POST /login with real bcrypt checks while one
//     client measures GET /user, in alternating quiet and flood phases
//     (-loadtest.floodphase, default 2s; -loadtest.floodrounds, default 3;
//     -loadtest.floodslots sets Login.PasswordConcurrency, 64 shows the server
//     without the bound). Every login must be answered within 3 s; without
//     the race detector, on a machine whose load average is below its CPU
//     count, GET /user's p99 under the flood must stay within 2x of the
//     quiet one. Under -race the hash is bcrypt's cheapest cost, as one
//     default-cost comparison alone takes seconds there.
//   - TestHookPanicsUnderLoad: password and header hooks that panic for some
//     users and not others, under 200 concurrent clients: the panicking
//     ones always get 500 {"detail": "internal error"} without a cookie, the
//     others 200, the server still answers afterwards, and no goroutine is
//     left behind.
//   - TestBoundedMemoryUnderAttack: every structure request input can grow,
//     fed -loadtest.attackkeys (default 100,000) distinct attacker-chosen
//     keys each over HTTP against one Auth: forged HS256 headers padded with
//     whitespace (the fast path's header cache), distinct valid sessions
//     due for renewal (the verified-token cache, the renewal records), host
//     tokens naming unknown kids (the JWKS). After each phase the live heap
//     (after runtime.GC) must have grown by less than 32 MiB, and the key
//     set must have been fetched at most once per refresh interval. Under
//     -race it sends 10,000 keys per structure (the detector makes each
//     request several times slower); make test runs it again without the
//     detector, with 100,000 (go test -count=1 -tags loadtest -run
//     '^TestBoundedMemoryUnderAttack$' ./loadtest/).
package loadtest
