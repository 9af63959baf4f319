// Command chat is chatauth's demo: a small chat web app with a login page
// (password, OAuth buttons, header login behind a proxy), a chat page whose
// bot streams its replies over Server-Sent Events, and a logout button.
//
//	go run ./examples/chat                      # from the repository root
//	go run ./examples/chat -addr :9000 -root /chat
//
// With nothing set it generates a secret and a demo user and prints how to
// log in. Environment: the Chainlit variables of chatauth.ConfigFromEnv, plus
// CHATAUTH_DEMO_USERS ("alice:pw1,bob:pw2"), CHATAUTH_DEMO_API_KEYS
// ("alice:key1,bob:key2": API keys in the X-API-Key header, from any
// address), CHATAUTH_HEADER_USER (a header naming the user, e.g.
// X-Forwarded-User, set by an authenticating proxy), CHATAUTH_TRUSTED_PROXIES
// (the only peers whose CHATAUTH_HEADER_USER is believed; by default
// 127.0.0.1 and ::1, a proxy on this machine), CHATAUTH_LOG_LEVEL (debug,
// info, warn, error), and CHATAUTH_REDIS_URL (redis://host:6379/0: share
// logouts, the password throttle and provider tokens with every instance
// on that Redis) with CHATAUTH_REDIS_CACHE (how stale a "not revoked"
// answer may be, default 1s). Without Redis, logouts and provider tokens
// are kept in CHATAUTH_STATE_DIR, by default a folder per -addr under
// chatauth-demo in the user's cache directory, so that they survive a
// restart; one process owns it at a time.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "chat:", err)
		os.Exit(1)
	}
}

// run starts the demo and serves until ctx is done.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	d, err := start(args, getenv, stdout, stderr)
	if err != nil {
		return err
	}
	<-ctx.Done()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return d.Shutdown(shutdownCtx)
}

// demo is the running demo server.
type demo struct {
	// URL is the base URL it listens on, root path included
	// ("http://127.0.0.1:8000", "http://127.0.0.1:8000/chat").
	URL  string
	app  *server
	srv  *http.Server
	done chan error
}

// start parses flags and environment, listens, prints how to log in on
// stdout and serves in the background: everything main does, except
// waiting, so that a test can start the demo exactly as `go run` does.
func start(args []string, getenv func(string) string, stdout, stderr io.Writer) (*demo, error) {
	return startWith(listenTCP, args, getenv, stdout, stderr)
}

// listenTCP is how start listens.
func listenTCP(addr string) (net.Listener, error) { return net.Listen("tcp", addr) }

// startWith is start with listen in place of net.Listen: a test hands over
// a listener it opened earlier, to know the app's address before the app
// exists (an OpenID provider wants the redirect URI registered first).
func startWith(listen func(addr string) (net.Listener, error), args []string, getenv func(string) string, stdout, stderr io.Writer) (*demo, error) {
	opts, err := parseFlags(args, getenv, stderr)
	if err != nil {
		return nil, err
	}
	s, err := newServer(opts)
	if err != nil {
		return nil, err
	}
	ln, err := listen(opts.Addr)
	if err != nil {
		_ = s.Close()
		return nil, err
	}
	d := &demo{
		URL:  "http://" + browsableAddr(ln.Addr()) + s.root,
		app:  s,
		srv:  newHTTPServer(s),
		done: make(chan error, 1),
	}
	s.printWelcome(stdout, d.URL)
	s.log.Info("chat: listening", "addr", ln.Addr().String(), "url", d.URL+"/")
	go func() { d.done <- d.srv.Serve(ln) }()
	return d, nil
}

// newHTTPServer is the demo's http.Server, with the time and size limits
// chatauth's README recommends: a client that sends its headers or body
// slowly, or never reads the answer, holds a connection (a goroutine, a
// file descriptor) for a bounded time. chatauth's own routes cut slow
// bodies sooner (Config.BodyReadTimeout, 5 s).
func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second, // request line and headers
		// Headers and body. net/http lifts it once the body is read, so a
		// stream that outlives it is not cut.
		ReadTimeout: 15 * time.Second,
		// The answer. The chat stream (Server-Sent Events) outlives it:
		// serveStream gives each event its own deadline instead.
		WriteTimeout:   30 * time.Second,
		IdleTimeout:    2 * time.Minute, // between requests on a kept-alive connection
		MaxHeaderBytes: 64 << 10,        // a session takes at most 4 cookies of 4 KB
	}
}

// Shutdown stops the server, waiting for open streams up to ctx.
func (d *demo) Shutdown(ctx context.Context) error {
	err := d.srv.Shutdown(ctx)
	if serveErr := <-d.done; !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	return errors.Join(err, d.app.Close())
}

// browsableAddr is addr as a person can type it in a browser: an
// unspecified host (":8000", "0.0.0.0:8000") becomes localhost.
func browsableAddr(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
