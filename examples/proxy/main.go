// Command proxy is an authenticating reverse proxy in front of
// examples/chat: it checks an API key and tells the chat server who the
// user is in X-Forwarded-User and X-Forwarded-Email. See README.md.
//
//	CHATAUTH_HEADER_USER=X-Forwarded-User CHATAUTH_TRUSTED_PROXIES=127.0.0.1/32 go run ./examples/chat
//	go run ./examples/proxy -user ada -email ada@example.com
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/chatauth/chatauth/examples/proxy/authproxy"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "proxy:", err)
		os.Exit(1)
	}
}

// run parses flags, listens, prints how to get in, and serves until ctx is
// done.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("proxy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "`host:port` to listen on")
	upstream := fs.String("upstream", "http://127.0.0.1:8000", "base `URL` of the chat server")
	key := fs.String("api-key", getenv("PROXY_API_KEY"), "API `key` clients must present (default $PROXY_API_KEY, else a random one)")
	user := fs.String("user", "ada", "user `name` sent to the chat server in X-Forwarded-User")
	email := fs.String("email", "ada@example.com", "e-mail `address` sent in X-Forwarded-Email (empty: none)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	generated := *key == ""
	if generated {
		*key = rand.Text()
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	h, err := authproxy.New(authproxy.Options{Upstream: *upstream, APIKey: *key, User: *user, Email: *email, Log: log})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	printWelcome(stdout, ln.Addr().String(), *upstream, *key, *user, generated)
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       15 * time.Second, // lifted by net/http once the body is read
		// The proxy relays the chat's Server-Sent Events, which cannot
		// extend a deadline through httputil.ReverseProxy: a bound long
		// enough for any reply, so that a client that stops reading is
		// still cut in the end.
		WriteTimeout:   5 * time.Minute,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	if serveErr := <-done; !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	return err
}

// printWelcome tells the operator how to get in. The API key is shown only
// when it was generated: one given by flag or environment is not echoed.
func printWelcome(w io.Writer, addr, upstream, key, user string, generated bool) {
	shown := "YOUR_KEY"
	if generated {
		shown = key
	}
	addr = browsableAddr(addr)
	fmt.Fprintf(w, "\nchatauth proxy: forwarding to %s as user %q.\n\n", upstream, user)
	fmt.Fprintf(w, "  Browser  http://%s/?%s=%s\n", addr, authproxy.APIKeyParam, shown)
	fmt.Fprintf(w, "  curl     curl -i -H '%s: %s' -X POST http://%s/auth/header\n", authproxy.APIKeyHeader, shown, addr)
	if generated {
		fmt.Fprintln(w, "\n  (random API key; set -api-key or PROXY_API_KEY to choose one)")
	}
	fmt.Fprintln(w, "\n  The chat server must run with CHATAUTH_HEADER_USER=X-Forwarded-User CHATAUTH_TRUSTED_PROXIES=127.0.0.1/32.")
	fmt.Fprintln(w)
}

// browsableAddr turns an unspecified listen host (":8080", "0.0.0.0:8080")
// into localhost.
func browsableAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
