//go:build loadtest

package loadtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/chatauth/chatauth"
)

var attackKeys = flag.Int("loadtest.attackkeys", defaultAttackKeys,
	"distinct attacker-chosen keys TestBoundedMemoryUnderAttack sends to each structure (100,000; 10,000 under -race)")

// heapBound is what TestBoundedMemoryUnderAttack lets the live heap grow
// by, all structures together: the verified-token cache's byte bound
// (16 MiB, charged at least what its entries hold), the renewal records
// (100,000 entries of a hash and a time, under 8 MiB), the fast path's
// header cache (at most 16 headers) and a JWKS (the issuer's keys), plus
// room for connections and buffers. Unbounded, the header recipe alone
// kept 600 MB of 50,000 requests, and 100,000 distinct 1.5 KB sessions
// cached whole would take well over 100 MB.
const heapBound = 32 << 20

// TestBoundedMemoryUnderAttack drives every structure that request input
// can grow with loadtest.attackkeys distinct attacker-chosen keys over
// HTTP, against one real Auth, and checks after each phase that the live
// heap (after runtime.GC) has grown by less than heapBound:
//
//   - the fast path's header cache: issue 11's recipe, GET /user with
//     Authorization: Bearer <h>.<p>.<43×A>, h an HS256 header padded with
//     JSON whitespace, different every time (every 100th one 9,000
//     characters of it, the rest short enough for the fast path to decode);
//   - the verified-token cache and the renewal records: distinct valid
//     sessions with 1.5 KB of metadata, past half their idle window, on a
//     route behind RequireUser, so that each is verified, cached and
//     renewed (what a logged-in client gets from POST /auth/jwt again and
//     again, and waiting);
//   - the host tokens' JWKS: POST /auth/jwt with host tokens naming a
//     distinct unknown kid each, which must also cost at most one fetch of
//     the key set per refresh interval.
func TestBoundedMemoryUnderAttack(t *testing.T) {
	n := *attackKeys
	secret := []byte(rand.Text() + rand.Text())
	jwksFetches, jwksURL := startJWKS(t)
	a, err := chatauth.New(chatauth.Config{
		Secret: secret,
		Session: chatauth.SessionConfig{
			IdleTimeout: 10 * time.Minute,
		},
		RequireLogin: true,
		HostTokens:   &chatauth.HostTokens{JWKSURL: jwksURL, Issuer: "https://host.example", Audience: "chat"},
		Logger:       slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	a.Mount(mux)
	mux.Handle("GET /app", a.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, chatauth.UserFrom(r.Context()).Identifier)
	})))
	srv := startServer(t, mux)
	const workers = 8
	tr := newTransport(workers)
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}

	base := liveHeap()
	t.Logf("live heap before: %.1f MiB", mib(base))
	check := func(phase string) {
		t.Helper()
		grown := int64(liveHeap()) - int64(base)
		t.Logf("%s: live heap grew by %.1f MiB (bound %d MiB)", phase, float64(grown)/(1<<20), heapBound>>20)
		if grown > heapBound {
			t.Errorf("%s: live heap grew by %.1f MiB, bound %d MiB", phase, float64(grown)/(1<<20), heapBound>>20)
		}
	}

	tl := newTally()
	start := time.Now()
	attack(t, c, tl, n, workers, func(i int) (*http.Request, string, int) {
		ws := strings.Repeat(" \t\r\n"[i%4:i%4+1], 9000)
		if i%100 != 0 {
			ws = whitespace(i)
		}
		h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256",` + ws + `"typ":"JWT"}`))
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/user", nil)
		req.Header.Set("Authorization", "Bearer "+h+".eyJpZGVudGlmaWVyIjoieCJ9."+strings.Repeat("A", 43))
		return req, "1 forged headers, GET /user", http.StatusUnauthorized
	})
	t.Logf("%d forged headers in %v", n, time.Since(start).Round(time.Millisecond))
	check("forged headers")

	start = time.Now()
	now := time.Now()
	pad := strings.Repeat("m", 1500)
	attack(t, c, tl, n, workers, func(i int) (*http.Request, string, int) {
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
			"identifier": "mallory", "display_name": nil, "metadata": map[string]any{"pad": pad},
			"iat": now.Add(-6 * time.Minute).Unix(), "exp": now.Add(4 * time.Minute).Unix(),
			"sexp": now.Add(time.Hour).Unix(), "jti": "attack-" + strconv.Itoa(i),
		}).SignedString(secret)
		if err != nil {
			panic(err)
		}
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/app", nil)
		req.AddCookie(&http.Cookie{Name: "access_token", Value: tok})
		return req, "2 distinct sessions, renewed", http.StatusOK
	})
	t.Logf("%d distinct sessions in %v", n, time.Since(start).Round(time.Millisecond))
	check("distinct sessions")

	start = time.Now()
	host := base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"https://host.example","aud":"chat","sub":"x","exp":` +
		strconv.FormatInt(now.Add(time.Hour).Unix(), 10) + `}`))
	attack(t, c, tl, n, workers, func(i int) (*http.Request, string, int) {
		h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"ES256","typ":"JWT","kid":"unknown-` + strconv.Itoa(i) + `"}`))
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/auth/jwt", nil)
		req.Header.Set("Authorization", "Bearer "+h+"."+host+"."+strings.Repeat("A", 86))
		return req, "3 unknown kids, POST /auth/jwt", http.StatusUnauthorized
	})
	took := time.Since(start)
	t.Logf("%d unknown kids in %v, %d fetches of the key set", n, took.Round(time.Millisecond), jwksFetches.Load())
	check("unknown kids")
	if max := int64(2 + took/(10*time.Second)); jwksFetches.Load() > max {
		t.Errorf("%d fetches of the key set in %v, want at most %d (one per 10 s refresh interval)", jwksFetches.Load(), took, max)
	}

	t.Logf("answers:%s", tl)
	tl.check(t)
	srv.checkErrorLog(t)
}

// attack sends n requests, made by req(i) for i in [0, n), from workers
// goroutines, and tallies each answer against the status req says.
func attack(t *testing.T, c *http.Client, tl *tally, n, workers int, req func(i int) (*http.Request, string, int)) {
	t.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				r, step, want := req(i)
				resp, body, err := do(c, r)
				if err != nil {
					tl.failed(step, err)
					continue
				}
				tl.add(step, resp.StatusCode, resp.StatusCode == want, snippet(body))
			}
		})
	}
	wg.Wait()
}

// whitespace is the JSON whitespace numbered i: distinct for every i,
// at most 20 characters.
func whitespace(i int) string {
	var b strings.Builder
	for ; i > 0 || b.Len() == 0; i /= 4 {
		b.WriteByte(" \t\r\n"[i%4])
	}
	return b.String()
}

// startJWKS serves a key set of one EC key and counts its fetches.
func startJWKS(t *testing.T) (*atomic.Int64, string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	doc, _ := json.Marshal(map[string]any{"keys": []any{map[string]string{
		"kty": "EC", "crv": "P-256", "kid": "host-key", "use": "sig",
		"x": enc(k.X.FillBytes(make([]byte, 32))), "y": enc(k.Y.FillBytes(make([]byte, 32))),
	}}})
	var fetches atomic.Int64
	srv := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(doc)
	}))
	return &fetches, srv.URL
}

// liveHeap is the heap in use after a collection.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
