package providers_test

import (
	"slices"
	"testing"

	"github.com/chatauth/chatauth"
	"github.com/chatauth/chatauth/internal/testutil"
	"github.com/chatauth/chatauth/providers"
)

// TestNoPanicOnNilOrZeroInput calls every exported function of the package
// with nil and zero arguments (and a zero Provider), and checks that
// nothing panics. The table is checked against the package's source, so a
// new exported function without a row fails the test.
func TestNoPanicOnNilOrZeroInput(t *testing.T) {
	zero := func() *chatauth.Provider { return &chatauth.Provider{} }
	calls := map[string]func(){
		"GitHub": func() { providers.GitHub("", "") },
		"Google": func() { providers.Google("", "") },
		"AzureAD": func() {
			providers.AzureAD(providers.AzureADOptions{})
			providers.AzureAD(providers.AzureADOptions{Hybrid: true})
		},
		"Okta":                 func() { providers.Okta(providers.OktaOptions{}) },
		"Auth0":                func() { providers.Auth0(providers.Auth0Options{}) },
		"Descope":              func() { providers.Descope("", "") },
		"Cognito":              func() { providers.Cognito(providers.CognitoOptions{}) },
		"GitLab":               func() { providers.GitLab(providers.GitLabOptions{}) },
		"Keycloak":             func() { providers.Keycloak(providers.KeycloakOptions{}) },
		"Generic":              func() { providers.Generic(providers.GenericOptions{}) },
		"OIDC":                 func() { providers.OIDC(providers.OIDCOptions{}) },
		"FromEnv":              func() { _, _ = providers.FromEnv(nil); _, _ = providers.FromEnv(nil, nil) },
		"SkipPartlyConfigured": func() { _, _ = providers.FromEnv(nil, providers.SkipPartlyConfigured(nil)) },
		"VerifiedUser": func() {
			_, _ = providers.VerifiedUser(nil, nil)
			_, _ = providers.VerifiedUser(zero(), nil)
		},
		"ChainlitUser": func() {
			_, _ = providers.ChainlitUser(nil, nil)
			_, _ = providers.ChainlitUser(zero(), nil)
		},
		"UseVerifiedIdentity": func() { providers.UseVerifiedIdentity(nil); providers.UseVerifiedIdentity(zero()) },
		"UseChainlitIdentity": func() { providers.UseChainlitIdentity(nil); providers.UseChainlitIdentity(zero()) },
	}
	exported := testutil.ExportedFuncs(t, ".")
	for _, name := range exported {
		if _, ok := calls[name]; !ok {
			t.Errorf("exported %s has no row: add one calling it with nil and zero arguments", name)
		}
	}
	for name, call := range calls {
		if !slices.Contains(exported, name) {
			t.Errorf("row for %s, which is not an exported function", name)
			continue
		}
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Errorf("%s panicked: %v", name, p)
				}
			}()
			call()
		}()
	}
}
