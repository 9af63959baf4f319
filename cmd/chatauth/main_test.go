package main

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/chatauth/chatauth"
)

// runCmd runs the command with stdin and returns exit code, stdout, stderr.
func runCmd(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestCreateSecret(t *testing.T) {
	seen := map[string]bool{}
	for range 3 {
		code, out, errOut := runCmd(t, "", "create-secret")
		if code != 0 || errOut != "" {
			t.Fatalf("create-secret: code %d, stderr %q", code, errOut)
		}
		secret := strings.TrimSuffix(out, "\n")
		raw, err := base64.RawURLEncoding.DecodeString(secret)
		if err != nil {
			t.Fatalf("secret %q is not base64url: %v", secret, err)
		}
		if len(raw) < 32 {
			t.Fatalf("secret carries %d bytes of entropy, want at least 32", len(raw))
		}
		if seen[secret] {
			t.Fatal("create-secret printed the same secret twice")
		}
		seen[secret] = true
		if _, err := chatauth.New(chatauth.Config{Secret: []byte(secret)}); err != nil {
			t.Fatalf("chatauth.New refuses the printed secret: %v", err)
		}
	}
}

func TestHashPassword(t *testing.T) {
	for _, tc := range []struct{ name, stdin string }{
		{"newline", "s3cret pw\n"},
		{"crlf", "s3cret pw\r\n"},
		{"no newline", "s3cret pw"},
		{"only first line", "s3cret pw\nsecond line\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // bcrypt is slow under -race
			code, out, errOut := runCmd(t, tc.stdin, "hash-password")
			if code != 0 {
				t.Fatalf("code %d, stderr %q", code, errOut)
			}
			hash := strings.TrimSuffix(out, "\n")
			if !chatauth.CheckPassword(hash, "s3cret pw") {
				t.Fatalf("hash %q does not match the password", hash)
			}
			if tc.name == "newline" && chatauth.CheckPassword(hash, "s3cret pw\n") {
				t.Fatal("the line ending became part of the password")
			}
		})
	}
}

func TestHashPasswordRefuses(t *testing.T) {
	for _, tc := range []struct{ name, stdin, want string }{
		{"empty stdin", "", "empty password"},
		{"empty line", "\nsecond\n", "empty password"},
		{"longer than bcrypt takes", strings.Repeat("x", 73) + "\n", "72 bytes"},
		{"huge line", strings.Repeat("x", 10000), "longer than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCmd(t, tc.stdin, "hash-password")
			if code != 1 || out != "" {
				t.Fatalf("code %d, stdout %q; want 1 and nothing on stdout", code, out)
			}
			if !strings.Contains(errOut, tc.want) {
				t.Fatalf("stderr %q does not mention %q", errOut, tc.want)
			}
		})
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"help"}, {"-h"}, {"frobnicate"}, {"create-secret", "extra"}} {
		code, out, errOut := runCmd(t, "", args...)
		if code != 2 || out != "" || !strings.Contains(errOut, "usage: chatauth") {
			t.Errorf("args %q: code %d, stdout %q, stderr %q; want usage on stderr and 2", args, code, out, errOut)
		}
	}
}
