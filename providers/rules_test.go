package providers

import (
	"bytes"
	"encoding/json"
	"testing"
)

// decodeUserData decodes a user-info body as the OAuth flow does (numbers
// as float64), or with json.Number when useNumber is set.
func decodeUserData(t *testing.T, body string, useNumber bool) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader([]byte(body)))
	if useNumber {
		dec.UseNumber()
	}
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil {
		t.Fatalf("decoding %s: %v", body, err)
	}
	return raw
}

// TestVerifiedUserRefusesInexactNumericSubject: a numeric sub or id decoded
// as float64 with a fraction, or at 2^53 and beyond, may have been rounded,
// so two users could share it: it is refused. Exact numbers, json.Number
// and strings of any size are kept digit for digit.
func TestVerifiedUserRefusesInexactNumericSubject(t *testing.T) {
	p := Generic(GenericOptions{ID: "corp", ClientID: "c", ClientSecret: "s", AuthURL: "https://a", TokenURL: "https://t", UserInfoURL: "https://u"})
	tests := []struct {
		name      string
		body      string
		useNumber bool
		subject   string // "" when refused
	}{
		{"id 2^53-1", `{"id":9007199254740991}`, false, "9007199254740991"},
		{"id 2^53", `{"id":9007199254740992}`, false, ""},
		{"id 2^53+1 rounds to 2^53", `{"id":9007199254740993}`, false, ""},
		{"negative id -2^53", `{"id":-9007199254740992}`, false, ""},
		{"sub far beyond 2^53", `{"sub":12345678901234567890123}`, false, ""},
		{"sub with a fraction", `{"sub":1.5}`, false, ""},
		{"id 1e300", `{"id":1e300}`, false, ""},
		{"small integer id", `{"id":583231}`, false, "583231"},
		{"integral float id", `{"id":42.0}`, false, "42"},
		{"json.Number beyond 2^53", `{"id":9007199254740993}`, true, "9007199254740993"},
		{"string beyond 2^53", `{"sub":"9007199254740993"}`, false, "9007199254740993"},
		{"string sub wins over an inexact id", `{"sub":"u-1","id":9007199254740993}`, false, "u-1"},
		{"inexact sub is refused, not skipped", `{"sub":9007199254740993,"id":"u-1"}`, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := VerifiedUser(p, decodeUserData(t, tt.body, tt.useNumber))
			if tt.subject == "" {
				if err == nil {
					t.Fatalf("accepted as %q with subject %v", u.Identifier, u.Metadata["subject"])
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if u.Metadata["subject"] != tt.subject || u.Identifier != "corp:"+tt.subject {
				t.Errorf("identifier %q subject %v, want corp:%s", u.Identifier, u.Metadata["subject"], tt.subject)
			}
		})
	}
}

// TestVerifiedUserEmailWithColonIsNotIdentifier: an e-mail that could read
// as another provider's "provider:subject" identifier (it has a colon), or
// is no address at all (no "@"), is never the identifier, even verified:
// the identifier is then "<provider>:<subject>" and the e-mail stays in
// metadata.
func TestVerifiedUserEmailWithColonIsNotIdentifier(t *testing.T) {
	p := Generic(GenericOptions{ID: "corp", ClientID: "c", ClientSecret: "s", AuthURL: "https://a", TokenURL: "https://t", UserInfoURL: "https://u"})
	tests := []struct {
		name       string
		email      string
		identifier string
	}{
		{"another provider's identifier", "github:583231", "corp:u-7"},
		{"colon before the at", "github:1@example.com", "corp:u-7"},
		{"colon in the domain", "ada@example.com:443", "corp:u-7"},
		{"no at", "ada.example.com", "corp:u-7"},
		{"plain address", "ada@example.com", "ada@example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, verified := range []any{true, "true"} {
				raw := map[string]any{"sub": "u-7", "email": tt.email, "email_verified": verified}
				u, err := VerifiedUser(p, raw)
				if err != nil {
					t.Fatal(err)
				}
				if u.Identifier != tt.identifier {
					t.Errorf("email_verified %v: identifier %q, want %q", verified, u.Identifier, tt.identifier)
				}
				if u.Metadata["email"] != tt.email {
					t.Errorf("metadata email %v, want %q", u.Metadata["email"], tt.email)
				}
			}
		})
	}
}
