package chatauth

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// slowBodyServer serves the Auth's routes on a real loopback server, whose
// connections carry the read deadline. The password hook accepts "ada"
// and calls hook, when set, first.
func slowBodyServer(t *testing.T, cfg Config, hook func(ctx context.Context)) (*httptest.Server, *syncBuffer) {
	t.Helper()
	a, _, logs := newTestAuth(t, cfg)
	a.OnPassword(func(ctx context.Context, username, _ string) (*User, error) {
		if hook != nil {
			hook(ctx)
		}
		if username == "ada" {
			return &User{Identifier: "ada"}, nil
		}
		return nil, nil
	})
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	return srv, logs
}

// sendHead opens a connection to srv and writes a POST to path announcing
// a body of length bytes and sending only the first part of it: the
// connection is the pipe the test controls.
func sendHead(t *testing.T, srv *httptest.Server, path string, length int, part string) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	// A safety net only: the server must answer long before.
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	head := "POST " + path + " HTTP/1.1\r\nHost: " + srv.Listener.Addr().String() +
		"\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: " + strconv.Itoa(length) + "\r\n\r\n"
	if _, err := io.WriteString(conn, head+part); err != nil {
		t.Fatal(err)
	}
	return conn, bufio.NewReader(conn)
}

// TestSlowBodyIsCut is issue 11's recipe 4 on one connection: headers with
// Content-Length 65536, a few bytes of body, then nothing. A route that
// reads the body answers 408 (reason body_timeout) once BodyReadTimeout
// has passed; one that does not answers at once; either way the server
// closes the connection instead of waiting for the rest.
func TestSlowBodyIsCut(t *testing.T) {
	cfg := Config{BodyReadTimeout: 200 * time.Millisecond}
	for _, tt := range []struct {
		path   string
		status int
		detail string
		reason string
	}{
		{"/login", http.StatusRequestTimeout, "request body too slow", reasonBodyTimeout},
		{"/auth/jwt", http.StatusUnauthorized, "Authorization header missing", reasonNoHeader},
		{"/logout", http.StatusOK, "", reasonOK},
	} {
		t.Run(strings.TrimPrefix(tt.path, "/"), func(t *testing.T) {
			srv, logs := slowBodyServer(t, cfg, nil)
			_, br := sendHead(t, srv, tt.path, 65536, "username=ada&pass")
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			body := readBody(t, resp)
			if resp.StatusCode != tt.status || (tt.detail != "" && !strings.Contains(body, `"detail":"`+tt.detail+`"`)) {
				t.Errorf("answer %d %s, want %d %q", resp.StatusCode, body, tt.status, tt.detail)
			}
			if !strings.Contains(logs.String(), "auth.reason="+tt.reason+" ") {
				t.Errorf("reason %s not logged:\n%s", tt.reason, logs)
			}
			// The connection ends: the server does not wait for the other
			// 65,519 bytes.
			if n, err := br.Read(make([]byte, 1)); n != 0 || err == nil || isTimeout(err) {
				t.Errorf("after the answer: read %d bytes, %v; want the connection closed", n, err)
			}
		})
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// TestBodyInTimeIsRead: a body sent in pieces within BodyReadTimeout is
// read as usual, and a hook slower than BodyReadTimeout after the body was
// read keeps its context: the deadline covers the body only.
func TestBodyInTimeIsRead(t *testing.T) {
	const timeout = 100 * time.Millisecond
	cancelled := make(chan bool, 1)
	srv, _ := slowBodyServer(t, Config{BodyReadTimeout: timeout}, func(ctx context.Context) {
		select {
		case <-ctx.Done():
			cancelled <- true
		case <-time.After(4 * timeout): // the hook's own work, past the deadline
			cancelled <- false
		}
	})
	body := "username=ada&password=pw"
	conn, br := sendHead(t, srv, "/login", len(body), body[:10])
	if _, err := io.WriteString(conn, body[10:]); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantSuccess(t, resp)
	if <-cancelled {
		t.Error("the hook's context was cancelled after the body had been read")
	}
}

// TestBodyReadTimeoutConfig: 5 s by default; a writer without deadlines
// (a recorder, a middleware's wrapper) is served as usual.
func TestBodyReadTimeoutConfig(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{})
	if a.cfg.BodyReadTimeout != 5*time.Second {
		t.Errorf("default BodyReadTimeout %v, want 5s", a.cfg.BodyReadTimeout)
	}
	a.OnPassword(acceptUser(&User{Identifier: "ada"}))
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, loginRequest("", "", ""))
	if rec.Code != http.StatusBadRequest {
		t.Errorf("a writer without deadlines: %d, want 400 missing field", rec.Code)
	}
}
