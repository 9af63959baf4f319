package providers

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/chatauth/chatauth"
	"github.com/chatauth/chatauth/internal/userdata"
)

// expectedSubject is the stable subject of user data for p, as the
// docs promise it: sub, else id (Azure AD: Graph's id, else oid, else sub),
// else the value of a non-e-mail IdentifierClaim the app named; as text.
// refused is true when the first present one is a float64 that may have
// been rounded (a fraction, or 2^53 and beyond).
func expectedSubject(p *chatauth.Provider, raw map[string]any) (subject string, refused bool) {
	keys := []string{"sub", "id"}
	if p.Preset == "azure-ad" || p.Preset == "azure-ad-hybrid" {
		keys = []string{"id", "oid", "sub"}
	}
	if c := p.IdentifierClaim; c != "" && c != "email" {
		keys = append(keys, c)
	}
	for _, k := range keys {
		if f, ok := raw[k].(float64); ok && (f != math.Trunc(f) || math.Abs(f) >= 1<<53) {
			return "", true
		}
		if s := userdata.String(raw, k); s != "" {
			return s, false
		}
	}
	return "", false
}

// FuzzVerifiedUser (chatauth's FuzzDefaultUser before the presets moved) maps arbitrary JSON user data (decoded with float64 or
// json.Number) for several providers. It never panics; a user it returns
// has a non-empty identifier, metadata provider = the provider's id and
// subject = expectedSubject's; the identifier is the e-mail only when
// email_verified is true and the e-mail has an "@" and no ":", and always
// then (unless the app named another claim); otherwise it is
// "<provider id>:<subject>". Inexact numeric subjects are refused.
func FuzzVerifiedUser(f *testing.F) {
	providers := []*chatauth.Provider{
		GitHub("c", "s"),
		Generic(GenericOptions{ID: "corp", ClientID: "c", ClientSecret: "s", AuthURL: "https://a", TokenURL: "https://t", UserInfoURL: "https://u"}),
		AzureAD(AzureADOptions{Tenant: "t", ClientID: "c", ClientSecret: "s"}),
		Generic(GenericOptions{ID: "named", ClientID: "c", ClientSecret: "s", AuthURL: "https://a", TokenURL: "https://t", UserInfoURL: "https://u", UserIdentifier: "preferred_username"}),
	}
	for i, s := range []string{
		`{"login":"octocat","id":583231,"email":"octocat@github.com","email_verified":true}`,
		`{"sub":"110169484474386276334","email":"ada@gmail.com","email_verified":"true","name":"Ada"}`,
		`{"sub":"u1","email":"github:583231","email_verified":true}`,
		`{"sub":"u1","email":"a:b@example.com","email_verified":true}`,
		`{"id":9007199254740993,"email":"x@y","email_verified":false}`,
		`{"id":1.5}`,
		`{"sub":12345678901234567890123}`,
		`{"sub":"","id":"87d349ed","preferred_username":"ada"}`,
		`{"sub":true,"id":-0}`,
		`{"sub":"42","preferred_username":"","email":"ada@example.com","email_verified":true}`,
		`null`,
	} {
		f.Add([]byte(s), uint8(i))
	}
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) {
		p := providers[int(mode>>1)%len(providers)]
		dec := json.NewDecoder(bytes.NewReader(data))
		if mode&1 != 0 {
			dec.UseNumber()
		}
		var raw map[string]any
		if dec.Decode(&raw) != nil {
			return
		}
		u, err := VerifiedUser(p, raw)
		subject, refused := expectedSubject(p, raw)
		if refused || subject == "" {
			if err == nil {
				t.Fatalf("user %q from data without an exact subject", u.Identifier)
			}
			return
		}
		if err != nil {
			t.Fatalf("subject %q refused: %v", subject, err)
		}
		if u.Identifier == "" {
			t.Fatal("empty identifier")
		}
		if u.Metadata["provider"] != p.ID || u.Metadata["subject"] != subject {
			t.Fatalf("metadata provider %v subject %v, want %q %q", u.Metadata["provider"], u.Metadata["subject"], p.ID, subject)
		}
		if claim := p.IdentifierClaim; claim != "" && claim != "email" {
			if v := userdata.String(raw, claim); v != "" {
				if u.Identifier != v {
					t.Fatalf("identifier %q, want the named claim %q", u.Identifier, v)
				}
				return
			}
		}
		email := userdata.String(raw, "email")
		verified := raw["email_verified"] == true || raw["email_verified"] == "true"
		address := strings.Contains(email, "@") && !strings.Contains(email, ":")
		switch u.Identifier {
		case p.ID + ":" + subject:
			if email != "" && verified && address {
				t.Fatalf("verified address %q is not the identifier %q", email, u.Identifier)
			}
			if email != "" && u.Metadata["email_unverified"] != true {
				t.Fatal("e-mail not used as identifier, yet not marked email_unverified")
			}
		case email:
			if !verified || !address {
				t.Fatalf("e-mail %q is the identifier, verified %v, plain address %v", email, verified, address)
			}
		default:
			t.Fatalf("identifier %q is neither the e-mail nor %q", u.Identifier, p.ID+":"+subject)
		}
	})
}
