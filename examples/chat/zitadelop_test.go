package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
)

// zitadelOP is the example OpenID provider of github.com/zitadel/oidc (an
// OpenID Certified library), run in-process: its own protocol code, its own
// in-memory storage and users, and its own login form. It is not ours, so a
// login through it proves chatauth against someone else's reading of the
// specifications.
type zitadelOP struct {
	// Issuer is the provider's issuer URL, on a free loopback port.
	Issuer string
	// ClientID and ClientSecret are a web client registered with the
	// redirect URIs given to startZitadelOP.
	ClientID, ClientSecret string
	// Username and Password log in on the provider's form; the user's name
	// and verified e-mail are DisplayName and Email.
	Username, Password, DisplayName, Email string
}

// zitadelHost is the provider's host name: not the app's 127.0.0.1, so that
// for the browser the provider is another site, as a real one is.
const zitadelHost = "localhost"

// startZitadelOP starts the example provider with one web client allowed
// to redirect to redirectURIs, and stops it when the test ends. Its log
// (it logs through slog's default logger) is shown if the test fails.
func startZitadelOP(t *testing.T, redirectURIs ...string) *zitadelOP {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	op := &zitadelOP{
		Issuer:       "http://" + net.JoinHostPort(zitadelHost, portOf(ln.Addr())),
		ClientID:     "chatauth-demo",
		ClientSecret: "zitadel-example-secret",
		Password:     "verysecure", // the example store's password for its users
		DisplayName:  "Test User",
		Email:        "test-user@zitadel.ch",
	}
	// The example store names its first user after the issuer's host.
	users := storage.NewUserStore(op.Issuer + "/")
	op.Username = "test-user@" + zitadelHost
	if u := users.GetUserByUsername(op.Username); u == nil || u.Email != op.Email || !u.EmailVerified {
		t.Fatalf("the example OP's user store has changed: no verified user %s <%s>", op.Username, op.Email)
	}
	clients := map[string]*storage.Client{
		op.ClientID: storage.WebClient(op.ClientID, op.ClientSecret, redirectURIs...),
	}

	logs := &logBuffer{}
	previous := slog.Default()
	router := exampleop.SetupServer(op.Issuer, storage.NewStorageWithClients(users, clients),
		slog.New(slog.NewTextHandler(logs, nil)), false)
	srv := &http.Server{Handler: router, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("zitadel OP: %v", err)
		}
		slog.SetDefault(previous) // SetupServer made its logger the default
		if t.Failed() {
			t.Logf("zitadel OP log:\n%s", logs)
		}
	})
	return op
}

// portOf is the port of a listener's address.
func portOf(addr net.Addr) string {
	_, port, _ := net.SplitHostPort(addr.String())
	return port
}
