package testutil

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestSignHS256VerifiesWithGolangJWT(t *testing.T) {
	secret := []byte(strings.Repeat("s", 32))
	tok := SignHS256(map[string]any{"alg": "HS256", "typ": "JWT", "kid": "k"}, map[string]any{"identifier": "ada"}, secret)
	claims := jwt.MapClaims{}
	if _, err := jwt.ParseWithClaims(tok, claims, func(*jwt.Token) (any, error) { return secret, nil }, jwt.WithValidMethods([]string{"HS256"})); err != nil {
		t.Fatalf("golang-jwt refuses %s: %v", tok, err)
	}
	if claims["identifier"] != "ada" || JWTPart(t, tok, 0)["kid"] != "k" {
		t.Errorf("claims %v, header %v", claims, JWTPart(t, tok, 0))
	}
}

func TestLogBufferClockCookie(t *testing.T) {
	var b LogBuffer
	b.Write([]byte("keep 1\ndrop 2\nkeep 3\n"))
	b.DropLines("drop")
	if b.String() != "keep 1\nkeep 3\n" {
		t.Errorf("after DropLines: %q", b.String())
	}
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	c := NewClock(start)
	c.Advance(time.Hour)
	if !c.Now().Equal(start.Add(time.Hour)) {
		t.Errorf("clock at %v", c.Now())
	}
	cookies := []*http.Cookie{{Name: "a"}, {Name: "b", Value: "v"}}
	if got := Cookie(cookies, "b"); got == nil || got.Value != "v" || Cookie(cookies, "c") != nil {
		t.Errorf("Cookie: %v", got)
	}
}
