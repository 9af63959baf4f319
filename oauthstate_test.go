package chatauth_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatauth/chatauth"
)

// TestOAuthStateUsedOnceUnderConcurrency: eight callbacks racing with one
// state and its cookie; the store's single use lets exactly one past the
// state check (the others are invalid_state, never exchange_failed, which
// a check-then-set would let several reach).
func TestOAuthStateUsedOnceUnderConcurrency(t *testing.T) {
	app := newOAuthApp(t, chatauth.Config{}, nil)
	c := newJarClient()
	q := callbackParams(t, app, c, "corp")
	base, _ := url.Parse(app.base)
	cookies := c.Jar.Cookies(base)
	codes := make(chan string, 8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodGet, app.base+"/auth/oauth/corp/callback?"+q.Encode(), nil)
			for _, ck := range cookies {
				req.AddCookie(ck)
			}
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			loc, _ := url.Parse(resp.Header.Get("Location"))
			codes <- loc.Query().Get("error")
		})
	}
	wg.Wait()
	close(codes)
	counts := map[string]int{}
	for code := range codes {
		counts[code]++
	}
	if counts[""] != 1 || counts["invalid_state"] != 7 {
		t.Errorf("outcomes %v, want one success and 7 invalid_state", counts)
	}
}

// TestOAuthStateRefusedWhenStoreFull: when the store cannot record a
// state's use, the login is refused with a log line, never let through.
func TestOAuthStateRefusedWhenStoreFull(t *testing.T) {
	store := chatauth.NewMemoryRevocationStore(1)
	if first, err := store.FirstUse(context.Background(), "taken", time.Now().Add(time.Hour)); !first || err != nil {
		t.Fatal(first, err)
	}
	app := newOAuthApp(t, chatauth.Config{Stores: chatauth.StoresConfig{Revocations: store}}, nil)
	c := newJarClient()
	if code := loginExpectingError(t, app, c, app.base+"/auth/oauth/corp"); code != "invalid_state" {
		t.Errorf("error=%q, want invalid_state", code)
	}
	for _, want := range []string{"recording state use", "auth.reason=store_full"} {
		if !strings.Contains(app.logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, app.logs)
		}
	}
}
