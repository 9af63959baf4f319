package chatauth

import (
	"errors"
	"fmt"
	"math"
)

// IdentityRule says how an OAuth login's user data becomes the identifier
// of its default user (OAuthLogin.DefaultUser). The identifier is what a
// data layer files a person's history under, so the rule decides whether a
// returning user is the same user.
type IdentityRule int

const (
	// VerifiedIdentity, the zero value, is the collision-safe rule, for new
	// apps: the e-mail when the provider says it is verified, else
	// "provider:subject". Two providers, or two accounts of one provider,
	// can never spell the same identifier. Presets built in Go use it
	// unless told otherwise; see DefaultUser.
	VerifiedIdentity IdentityRule = iota
	// ChainlitIdentity is Chainlit 2.x's rule, so that an app moving from
	// Chainlit keeps its users: GitHub's login, Azure AD's
	// userPrincipalName, Generic's IdentifierClaim (default email), the
	// e-mail as given for the others, whether verified or not.
	// display_name is empty and metadata is Chainlit's (its "provider"
	// spelling, its "image"), plus "subject". ProvidersFromEnv uses it for
	// every provider read from Chainlit's variables.
	ChainlitIdentity
)

// String names the rule in logs: "verified" or "chainlit".
func (r IdentityRule) String() string {
	switch r {
	case VerifiedIdentity:
		return "verified"
	case ChainlitIdentity:
		return "chainlit"
	}
	return fmt.Sprintf("IdentityRule(%d)", int(r))
}

// chainlitMapping is how Chainlit 2.11's oauth_providers.py turns one
// provider's user data into its default user. The zero value is Chainlit's
// GenericOAuthProvider: the IdentifierClaim field, metadata {"provider": ID}.
type chainlitMapping struct {
	// identifier is the user-data field taken as the identifier, as given;
	// empty for the provider's IdentifierClaim.
	identifier string
	// metadata is the metadata Chainlit writes; nil for {"provider": ID}.
	metadata func(raw map[string]any) map[string]any
}

// chainlitMetadata is the metadata of a Chainlit provider that writes an
// image: the user-data field image, or fallback when the field is missing
// or null (Chainlit writes "" or null, depending on the provider); with
// image "", always fallback (Okta and Descope write "").
func chainlitMetadata(provider, image string, fallback any) func(map[string]any) map[string]any {
	return func(raw map[string]any) map[string]any {
		img := raw[image]
		if img == nil || image == "" {
			img = fallback
		}
		return map[string]any{"image": img, "provider": provider}
	}
}

// identifierField is the user-data field the Chainlit rule takes as the
// identifier.
func (p *Provider) identifierField() string {
	if p.chainlit.identifier != "" {
		return p.chainlit.identifier
	}
	if p.IdentifierClaim != "" {
		return p.IdentifierClaim
	}
	return "email"
}

// chainlitUser maps user data as Chainlit does for p (ChainlitIdentity).
// The subject is added to the metadata when the data has one, and
// "provider_id" when Chainlit's provider name is not p.ID (azure-ad-hybrid
// is "azure-ad" to Chainlit, a renamed Keycloak "keycloak").
func chainlitUser(p *Provider, raw map[string]any) (*User, error) {
	field := p.identifierField()
	id := claimString(raw, field)
	if id == "" {
		return nil, fmt.Errorf("user data has no %q, the identifier Chainlit gives %s users", field, p.ID)
	}
	md := map[string]any{"provider": p.ID}
	if p.chainlit.metadata != nil {
		md = p.chainlit.metadata(raw)
	}
	if md["provider"] != p.ID {
		md["provider_id"] = p.ID
	}
	if subject, err := subjectOf(p, raw); err == nil {
		md["subject"] = subject
	}
	return &User{Identifier: id, Metadata: md}, nil
}

// describeIdentity says in a log line which identifier p's logins get.
func (p *Provider) describeIdentity() string {
	switch {
	case p.MapUser != nil:
		return "custom MapUser"
	case p.Identity == ChainlitIdentity:
		return fmt.Sprintf("chainlit: user data %q as given", p.identifierField())
	case p.IdentifierClaim != "" && p.IdentifierClaim != "email":
		return fmt.Sprintf("verified: user data %q as given, else the verified e-mail, else %s:<subject>", p.IdentifierClaim, p.ID)
	}
	return fmt.Sprintf("verified: verified e-mail, else %s:<subject>", p.ID)
}

// errNoSubject is a user-data answer without a stable subject.
var errNoSubject = errors.New("user data has no subject (sub or id)")

// subjectOf is the provider's stable subject for this user: the first of
// p's subject claims (sub, then id, by default; Microsoft Graph's object id
// for Azure AD), else the value of a non-e-mail IdentifierClaim (a Generic
// API that only sends "account_id"). A number decoded as float64 beyond
// 2^53, or with a fraction, may have been rounded: two users could share it,
// so it is refused. User data fetched by chatauth keeps numbers exact
// (json.Number).
func subjectOf(p *Provider, raw map[string]any) (string, error) {
	keys := p.subjectClaims
	if len(keys) == 0 {
		keys = []string{"sub", "id"}
	}
	if c := p.IdentifierClaim; c != "" && c != "email" {
		keys = append(keys[:len(keys):len(keys)], c)
	}
	for _, k := range keys {
		if f, ok := raw[k].(float64); ok && (f != math.Trunc(f) || math.Abs(f) >= 1<<53) {
			return "", fmt.Errorf("user data %s %v is a number too large to be exact (decode it with json.Number)", k, f)
		}
		if s := claimString(raw, k); s != "" {
			return s, nil
		}
	}
	return "", errNoSubject
}

// verifiedEmail is the e-mail the provider says is verified: email with
// email_verified (OpenID) or verified_email (Google's v2 user info), else
// the primary verified address of a GitHub-style "emails" list.
func verifiedEmail(raw map[string]any) string {
	if e := claimString(raw, "email"); e != "" && (claimBool(raw, "email_verified") || claimBool(raw, "verified_email")) {
		return e
	}
	list, _ := raw["emails"].([]any)
	for _, item := range list {
		m, _ := item.(map[string]any)
		if e := claimString(m, "email"); e != "" && claimBool(m, "primary") && claimBool(m, "verified") {
			return e
		}
	}
	return ""
}
