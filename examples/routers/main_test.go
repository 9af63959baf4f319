package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestRunServesUntilCancelled runs the command as `-router gin -root /chat`
// on a free loopback port: it prints where it serves, the routes answer
// there, and it returns cleanly when its context ends.
func TestRunServesUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	out, stdout := io.Pipe()
	bases := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if _, base, ok := strings.Cut(sc.Text(), ", serving "); ok {
				bases <- base
			}
		}
	}()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-router", "gin", "-root", "/chat", "-addr", "127.0.0.1:0"}, func(string) string { return "" }, stdout, io.Discard)
		stdout.Close()
	}()
	var base string
	select {
	case base = <-bases:
	case err := <-done:
		t.Fatalf("run returned before serving: %v", err)
	}
	if !strings.HasSuffix(base, "/chat") {
		t.Fatalf("serving %q, want a base URL ending in the root path /chat", base)
	}
	c := newClient(t)
	if code := do(t, c, http.MethodGet, base+"/auth/config", nil).StatusCode; code != http.StatusOK {
		t.Errorf("GET /chat/auth/config = %d, want 200", code)
	}
	refused(t, c, base+"/api/me")
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run after cancel: %v", err)
	}
}

func TestRunRefusesUnknownRouter(t *testing.T) {
	err := run(t.Context(), []string{"-router", "martini"}, func(string) string { return "" }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), `unknown router "martini"`) {
		t.Fatalf("run -router martini: %v, want unknown router", err)
	}
}
