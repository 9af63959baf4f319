package chatauth

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestShortPreviousSecret: a Chainlit deployment's short secret, kept as a
// previous secret, verifies the sessions Chainlit signed with it, signs
// nothing, and is named (never shown) in a start-up warning.
func TestShortPreviousSecret(t *testing.T) {
	short := []byte("chainlit-short") // 14 bytes: Chainlit accepts any secret
	env := map[string]string{
		"CHAINLIT_AUTH_SECRET":      string(testSecret),
		"CHATAUTH_PREVIOUS_SECRETS": string(short),
	}
	cfg, err := ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	a, clk, logs := newTestAuth(t, cfg)
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "previous_secret=0 bytes=14") {
		t.Errorf("no warning naming the short previous secret:\n%s", logs)
	}
	if strings.Contains(logs.String(), string(short)) {
		t.Error("the warning shows the secret")
	}

	old := signHMAC(t, short, map[string]any{"alg": "HS256", "typ": "JWT"}, chainlitPayload(clk.Now(), time.Hour))
	if got := userOf(t, a, userRequest(a, old)); got != "ada@example.com" {
		t.Errorf("session signed with the short secret: user %q", got)
	}
	// New sessions are signed with the long secret only.
	ours := issue(t, a, &User{Identifier: "ada"})
	b, _, _ := newTestAuth(t, Config{Secret: []byte(strings.Repeat("x", 32)), PreviousSecrets: [][]byte{short}})
	if _, err := b.VerifyToken(t.Context(), ours); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("a new token verifies with the short secret: %v", err)
	}

	// SetSecrets follows the same rule.
	if err := a.SetSecrets(testSecret, short); err != nil {
		t.Errorf("SetSecrets with a short previous secret: %v", err)
	}
	if got := userOf(t, a, userRequest(a, old)); got != "ada@example.com" {
		t.Errorf("after SetSecrets: user %q", got)
	}
	for name, set := range map[string]func() error{
		"short current":  func() error { return a.SetSecrets(short, testSecret) },
		"empty previous": func() error { return a.SetSecrets(testSecret, []byte{}) },
	} {
		if err := set(); err == nil {
			t.Errorf("SetSecrets accepted %s", name)
		}
	}
	resp := serve(t, a, userRequest(a, old))
	if resp.StatusCode != http.StatusOK {
		t.Errorf("after refused SetSecrets calls: %d", resp.StatusCode)
	}
}
