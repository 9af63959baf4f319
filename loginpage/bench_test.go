package loginpage

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/chatauth/chatauth"
)

// BenchmarkPage renders the page with every method on, all twelve presets
// and an error, in French: the whole GET R/login.
func BenchmarkPage(b *testing.B) {
	a := newAuth(b, chatauth.Config{})
	withPassword(a)
	withHeader(a)
	withProviders(b, a, everyPreset()...)
	p, err := New(a, Options{Title: "Acme chat"})
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/login?error=invalid_state", nil)
	req.Header.Set("Accept-Language", "fr-CA,fr;q=0.9,en;q=0.8")
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		p.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}
