package seal

import (
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	k1 := DeriveKey([]byte(strings.Repeat("a", 32)), "oauth state")
	k2 := DeriveKey([]byte(strings.Repeat("b", 32)), "oauth state")
	other := DeriveKey([]byte(strings.Repeat("a", 32)), "something else")
	sealed := Seal(k1, "oauth_state", []byte("verifier"))
	if strings.Contains(sealed, "verifier") {
		t.Fatal("plaintext visible")
	}
	if pt, err := Open([][]byte{k2, k1}, "oauth_state", sealed); err != nil || string(pt) != "verifier" {
		t.Fatalf("open with rotated keys: %q %v", pt, err)
	}
	tampered := []byte(sealed)
	tampered[len(tampered)/2] ^= 1
	for name, c := range map[string]struct {
		keys   [][]byte
		aad    string
		sealed string
	}{
		"wrong key":     {[][]byte{k2}, "oauth_state", sealed},
		"other purpose": {[][]byte{other}, "oauth_state", sealed},
		"other aad":     {[][]byte{k1}, "session", sealed},
		"tampered":      {[][]byte{k1}, "oauth_state", string(tampered)},
		"truncated":     {[][]byte{k1}, "oauth_state", sealed[:10]},
		"not base64":    {[][]byte{k1}, "oauth_state", "!!!"},
		"empty":         {[][]byte{k1}, "oauth_state", ""},
	} {
		if _, err := Open(c.keys, c.aad, c.sealed); err != ErrOpen {
			t.Errorf("%s: err = %v, want ErrOpen", name, err)
		}
	}
	first, second := Seal(k1, "x", []byte("same")), Seal(k1, "x", []byte("same"))
	if first == second {
		t.Error("sealing is deterministic: nonce reused")
	}
}

func FuzzOpen(f *testing.F) {
	k := DeriveKey([]byte(strings.Repeat("a", 32)), "oauth state")
	f.Add(Seal(k, "oauth_state", []byte(`[{"s":"x"}]`)))
	f.Add("")
	f.Add("AAAA")
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = Open([][]byte{k}, "oauth_state", s)
	})
}
