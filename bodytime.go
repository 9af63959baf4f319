package chatauth

import (
	"errors"
	"net/http"
	"os"
	"time"
)

// defaultBodyReadTimeout is Config.BodyReadTimeout's default: a login form
// is a few hundred bytes, and even a slow phone sends 64 KiB in much less.
const defaultBodyReadTimeout = 5 * time.Second

// reasonBodyTimeout is the reason code of a body that did not arrive in
// time (408).
const reasonBodyTimeout = "body_timeout"

// errBodyTimeout is a request body that did not arrive within
// Config.BodyReadTimeout.
var errBodyTimeout = errors.New("request body too slow")

// limitBodyTime bounds the time a route spends reading the request body,
// with a read deadline on the connection (http.ResponseController) set
// when the request has a body: a client sending a Content-Length of 64 KiB
// and then one byte every few seconds holds a connection, a goroutine and
// a file descriptor for no longer than Config.BodyReadTimeout. A route
// that reads the body answers 408 (reason body_timeout); one that does not
// answers as usual, and net/http closes the connection when the rest of
// the body fails to arrive. net/http lifts the deadline itself once the
// body has been read to its end, so a slow hook after that is not cut.
func (a *Auth) limitBodyTime(h http.Handler) http.Handler {
	d := a.cfg.BodyReadTimeout
	if d < 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody {
			// Not every ResponseWriter supports deadlines (a recorder in a
			// test, some middleware): then the server's own limits apply.
			_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(d))
		}
		h.ServeHTTP(w, r)
	})
}

// isBodyTimeout reports whether err is a body read cut by the deadline.
func isBodyTimeout(err error) bool {
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, errBodyTimeout)
}
