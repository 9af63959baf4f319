package main

import (
	"context"
	"time"

	"github.com/chatauth/chatauth"
)

// addProviders registers the OAuth providers configured in the environment
// (OAUTH_GITHUB_*, OAUTH_GOOGLE_*, ..., OAUTH_OIDC_*), read through getenv
// like the rest of the configuration so that tests stay hermetic. The demo
// accepts each login's default user: the provider's verified e-mail, or
// "provider:subject".
func addProviders(a *chatauth.Auth, getenv func(string) string) error {
	providers, err := chatauth.ProvidersFromEnv(getenv)
	if err != nil || len(providers) == 0 {
		return err
	}
	a.OnOAuth(func(_ context.Context, l chatauth.OAuthLogin) (*chatauth.User, error) {
		return l.DefaultUser, nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for _, p := range providers {
		if err := a.AddProvider(ctx, p); err != nil {
			return err
		}
	}
	return nil
}
