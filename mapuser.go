package chatauth

import (
	"github.com/chatauth/chatauth/internal/userdata"
)

// mapUser builds OAuthLogin.User: p.MapUser, else the collision-safe rule
// (for a Provider built by hand; every preset sets MapUser).
func (a *Auth) mapUser(p *Provider, raw map[string]any) (*User, error) {
	if p.MapUser != nil {
		return p.MapUser(p, raw)
	}
	m, err := userdata.Verified(p.ID, p.IdentifierClaim, nil, raw)
	if err != nil {
		return nil, err
	}
	return &User{Identifier: m.Identifier, DisplayName: m.DisplayName, Metadata: m.Metadata}, nil
}

// describeIdentity says in a log line which identifier p's logins get.
func (p *Provider) describeIdentity() string {
	switch {
	case p.Identity != "":
		return p.Identity
	case p.MapUser != nil:
		return "custom MapUser"
	}
	return userdata.DescribeVerified(p.ID, p.IdentifierClaim)
}

// firstClaim is the first of keys that raw has as non-empty text.
func firstClaim(raw map[string]any, keys ...string) string {
	return userdata.First(raw, keys...)
}
