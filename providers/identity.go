package providers

import (
	"errors"
	"fmt"

	"github.com/chatauth/chatauth"
	"github.com/chatauth/chatauth/internal/userdata"
)

// ErrNoIdentifier is returned by ChainlitUser when the user data lacks the
// field Chainlit takes as the identifier.
var ErrNoIdentifier = errors.New("providers: user data has no identifier")

// VerifiedUser is the collision-safe mapping from a provider's user data
// to a chatauth.User, for new apps, and every preset's default.
// Identities cannot collide across providers: metadata records "provider"
// and the provider's stable "subject" (sub, GitHub's numeric id, Microsoft
// Graph's object id); the e-mail is the identifier only when the provider
// says it is verified (email_verified, Google's verified_email, GitHub's
// verified primary e-mail). Otherwise the identifier is "provider:subject"
// and metadata "email_unverified" is true. An e-mail that is not an
// address ("github:42" from a rogue provider) is never the identifier, so
// no provider can spell another's identities. A non-e-mail
// IdentifierClaim is taken as given (the app vouches for it). Numbers
// decoded as float64 beyond 2^53 are refused as subjects.
func VerifiedUser(p *chatauth.Provider, raw map[string]any) (*chatauth.User, error) {
	if p == nil {
		return nil, fmt.Errorf("%w: nil Provider", chatauth.ErrProviderConfig)
	}
	m, err := userdata.Verified(p.ID, p.IdentifierClaim, subjectClaims(p), raw)
	if err != nil {
		return nil, err
	}
	return &chatauth.User{Identifier: m.Identifier, DisplayName: m.DisplayName, Metadata: m.Metadata}, nil
}

// ChainlitUser is Chainlit 2.x's mapping, so that an app moving from
// Chainlit keeps its users: GitHub's login, Azure AD's userPrincipalName,
// the IdentifierClaim (default email) of Generic and providers built by
// hand, the e-mail as given for the other presets, whether verified or
// not. display_name is empty and metadata is Chainlit's (its "provider"
// spelling, its "image"), plus "subject" when the data has one, and
// "provider_id" when Chainlit's provider name is not p.ID (azure-ad-hybrid
// is "azure-ad" to Chainlit, a renamed Keycloak "keycloak"). FromEnv uses
// it for every provider Chainlit knows. The preset is read from p.Preset.
func ChainlitUser(p *chatauth.Provider, raw map[string]any) (*chatauth.User, error) {
	if p == nil {
		return nil, fmt.Errorf("%w: nil Provider", chatauth.ErrProviderConfig)
	}
	field := identifierField(p)
	id := userdata.String(raw, field)
	if id == "" {
		return nil, fmt.Errorf("%w: no %q, the identifier Chainlit gives %s users", ErrNoIdentifier, field, p.ID)
	}
	md := map[string]any{"provider": p.ID}
	if m := chainlitMappings[p.Preset]; m.metadata != nil {
		md = m.metadata(raw)
	}
	if md["provider"] != p.ID {
		md["provider_id"] = p.ID
	}
	if subject, err := userdata.Subject(raw, subjectClaims(p), p.IdentifierClaim); err == nil {
		md["subject"] = subject
	}
	return &chatauth.User{Identifier: id, Metadata: md}, nil
}

// UseVerifiedIdentity makes p map users with VerifiedUser (MapUser) and
// say so in AddProvider's log line (Identity). It returns p; nil stays nil.
func UseVerifiedIdentity(p *chatauth.Provider) *chatauth.Provider {
	if p != nil {
		p.MapUser = VerifiedUser
		p.Identity = userdata.DescribeVerified(p.ID, p.IdentifierClaim)
	}
	return p
}

// UseChainlitIdentity makes p map users with ChainlitUser (MapUser) and
// say so in AddProvider's log line (Identity). It returns p; nil stays nil.
func UseChainlitIdentity(p *chatauth.Provider) *chatauth.Provider {
	if p != nil {
		p.MapUser = ChainlitUser
		p.Identity = fmt.Sprintf("chainlit: user data %q as given", identifierField(p))
	}
	return p
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

// azureChainlitMapping is Chainlit's AzureADOAuthProvider.get_user_info
// (and AzureADHybridOAuthProvider's, which writes "azure-ad" too). Chainlit
// also writes the refresh token into the metadata; here it never enters
// the session (see chatauth.Config.KeepProviderTokens).
var azureChainlitMapping = chainlitMapping{identifier: "userPrincipalName", metadata: chainlitMetadata("azure-ad", "image", nil)}

// chainlitMappings are Chainlit's mappings by Provider.Preset.
var chainlitMappings = map[string]chainlitMapping{
	"github":          {identifier: "login", metadata: chainlitMetadata("github", "avatar_url", "")},
	"google":          {metadata: chainlitMetadata("google", "picture", "")},
	"azure-ad":        azureChainlitMapping,
	"azure-ad-hybrid": azureChainlitMapping,
	"okta":            {metadata: chainlitMetadata("okta", "", "")},
	"auth0":           {metadata: chainlitMetadata("auth0", "picture", "")},
	"descope":         {metadata: chainlitMetadata("descope", "", "")},
	"aws-cognito":     {metadata: chainlitMetadata("aws-cognito", "picture", "")},
	"gitlab":          {metadata: chainlitMetadata("gitlab", "picture", "")},
	"keycloak": {metadata: func(map[string]any) map[string]any {
		return map[string]any{"provider": "keycloak"} // whatever OAUTH_KEYCLOAK_NAME says
	}},
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
func identifierField(p *chatauth.Provider) string {
	if f := chainlitMappings[p.Preset].identifier; f != "" {
		return f
	}
	if p.IdentifierClaim != "" {
		return p.IdentifierClaim
	}
	return "email"
}

// subjectClaims are the user-data fields tried for p's subject: Microsoft
// Graph's object id for both Azure presets (the id_token's sub is
// pairwise, different for each app), else nil for sub, then id.
func subjectClaims(p *chatauth.Provider) []string {
	switch p.Preset {
	case "azure-ad", "azure-ad-hybrid":
		return []string{"id", "oid", "sub"}
	}
	return nil
}
