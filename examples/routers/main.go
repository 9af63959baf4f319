// Command routers serves one small chat app, protected by chatauth, on the
// router of your choice: net/http's ServeMux, chi, gorilla/mux, echo or
// gin, under / or under a root path. See README.md beside this file.
//
//	go run ./examples/routers -router gin -root /chat
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
	"strings"
	"syscall"
	"time"

	"github.com/chatauth/chatauth"
)

// router is one way to serve the app.
type router struct {
	name    string
	handler func(*chatApp) http.Handler
}

// routers lists every router the example wires the app into.
func routers() []router {
	return []router{
		{"servemux", withServeMux},
		{"chi", withChi},
		{"gorilla", withGorillaMux},
		{"echo", withEcho},
		{"gin", withGin},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "routers:", err)
		os.Exit(1)
	}
}

// run parses flags, builds the app on the chosen router, listens, prints
// how to log in, and serves until ctx is done.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("routers", flag.ContinueOnError)
	fs.SetOutput(stderr)
	names := make([]string, 0, len(routers()))
	for _, rt := range routers() {
		names = append(names, rt.name)
	}
	name := fs.String("router", "servemux", "`router` to serve the app on: "+strings.Join(names, ", "))
	root := fs.String("root", getenv("CHAINLIT_ROOT_PATH"), "root `path` of every route (default $CHAINLIT_ROOT_PATH)")
	addr := fs.String("addr", "127.0.0.1:8000", "`host:port` to listen on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var build func(*chatApp) http.Handler
	for _, rt := range routers() {
		if rt.name == *name {
			build = rt.handler
		}
	}
	if build == nil {
		return fmt.Errorf("unknown router %q; want one of %s", *name, strings.Join(names, ", "))
	}
	secret := []byte(getenv("CHAINLIT_AUTH_SECRET"))
	if len(secret) == 0 {
		secret = []byte(rand.Text() + rand.Text()) // sessions end with the process
	}
	password := rand.Text()
	hash, err := chatauth.HashPassword(password)
	if err != nil {
		return err
	}
	cfg := chatauth.Config{Secret: secret, RootPath: *root, Logger: slog.New(slog.NewTextHandler(stderr, nil))}
	app, err := newChatApp(cfg, map[string]string{"alice": hash}, time.Second)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	printWelcome(stdout, *name, "http://"+ln.Addr().String()+app.root, password)
	srv := &http.Server{
		Handler:           build(app),
		ReadHeaderTimeout: 10 * time.Second,
		// Streams end when ctx does, so that Shutdown need not wait for them.
		BaseContext: func(net.Listener) context.Context { return ctx },
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

// printWelcome tells how to log in, read the user and stream with curl.
func printWelcome(w io.Writer, router, base, password string) {
	fmt.Fprintf(w, `chat app on %s, serving %s
log in as alice with password %s:
  curl -c jar -d username=alice -d password=%s %s/login
  curl -b jar %s/api/me
  curl -b jar -N %s/api/stream
  curl -b jar -X POST %s/logout
`, router, base, password, password, base, base, base, base)
}
