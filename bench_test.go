package chatauth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// benchUser makes a token of about 370 characters, as a real chat session:
// an e-mail identifier, a display name, an avatar URL and the provider.
var benchUser = &User{
	Identifier:  "ada.lovelace@example.com",
	DisplayName: "Ada Lovelace",
	Metadata:    map[string]any{"image": "https://avatars.example.com/u/583231?v=4", "provider": "github"},
}

func benchAuth(b *testing.B) *Auth {
	b.Helper()
	a, err := New(Config{Secret: []byte(strings.Repeat("s", 32)), Logger: discardLogger()})
	if err != nil {
		b.Fatal(err)
	}
	return a
}

func benchToken(b *testing.B, a *Auth) string {
	b.Helper()
	tok, _, err := a.IssueToken(benchUser)
	if err != nil {
		b.Fatal(err)
	}
	return tok
}

var benchHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(http.StatusNoContent)
})

// serveBench sends the same request through h b.N times.
func serveBench(b *testing.B, h http.Handler, token string) {
	b.Helper()
	r := httptest.NewRequest("GET", "/chat", nil)
	r.Header.Set("Cookie", "access_token="+token)
	serveBenchRequest(b, h, r)
}

// serveBenchRequest sends r through h b.N times.
func serveBenchRequest(b *testing.B, h http.Handler, r *http.Request) {
	b.Helper()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusNoContent {
			b.Fatalf("status %d", w.Code)
		}
	}
}

// BenchmarkBaseline is the trivial handler alone.
func BenchmarkBaseline(b *testing.B) {
	a := benchAuth(b)
	serveBench(b, benchHandler, benchToken(b, a))
}

// BenchmarkRequireUser is the common case: the same session cookie again.
func BenchmarkRequireUser(b *testing.B) {
	a := benchAuth(b)
	serveBench(b, a.RequireUser(benchHandler), benchToken(b, a))
}

// BenchmarkRequireUserFirstSight sends a token never seen before on every
// request: the signature check, decoding and caching each time.
func BenchmarkRequireUserFirstSight(b *testing.B) {
	a := benchAuth(b)
	serveFreshTokens(b, a, a.RequireUser(benchHandler))
}

// BenchmarkReferenceGolangJWTFirstSight is the reference middleware on the
// same stream of distinct tokens, so both pay the same memory traffic.
func BenchmarkReferenceGolangJWTFirstSight(b *testing.B) {
	a := benchAuth(b)
	serveFreshTokens(b, a, referenceMiddleware([]byte(strings.Repeat("s", 32)), benchHandler))
}

// serveFreshTokens sends b.N requests through h, each with its own token.
func serveFreshTokens(b *testing.B, a *Auth, h http.Handler) {
	b.Helper()
	reqs := make([]*http.Request, b.N)
	for i := range reqs {
		reqs[i] = httptest.NewRequest("GET", "/chat", nil)
		reqs[i].Header.Set("Cookie", "access_token="+benchToken(b, a))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, reqs[i])
		if w.Code != http.StatusNoContent {
			b.Fatalf("status %d", w.Code)
		}
	}
}

// BenchmarkVerifyToken is the token check alone, on a cached token.
func BenchmarkVerifyToken(b *testing.B) {
	a := benchAuth(b)
	tok := benchToken(b, a)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := a.VerifyToken(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}

// referenceClaims is what a hand-written golang-jwt middleware decodes.
type referenceClaims struct {
	Identifier  string         `json:"identifier"`
	DisplayName string         `json:"display_name"`
	Metadata    map[string]any `json:"metadata"`
	jwt.RegisteredClaims
}

type referenceUserKey struct{}

// referenceMiddleware is the usual golang-jwt middleware: read the cookie,
// parse and verify with an algorithm allow-list, put the user in the context.
func referenceMiddleware(secret []byte, next http.Handler) http.Handler {
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired())
	keyfunc := func(*jwt.Token) (any, error) { return secret, nil }
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie("access_token")
		if err != nil {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		var claims referenceClaims
		if _, err := parser.ParseWithClaims(c.Value, &claims, keyfunc); err != nil {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		u := &User{Identifier: claims.Identifier, DisplayName: claims.DisplayName, Metadata: claims.Metadata}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), referenceUserKey{}, u)))
	})
}

// BenchmarkReferenceGolangJWT is the reference middleware on the same token.
func BenchmarkReferenceGolangJWT(b *testing.B) {
	a := benchAuth(b)
	serveBench(b, referenceMiddleware([]byte(strings.Repeat("s", 32)), benchHandler), benchToken(b, a))
}
