package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/chatauth/chatauth"
	"github.com/chatauth/chatauth/providers"
)

// addProviders registers the OAuth providers configured in the environment
// (OAUTH_GITHUB_*, OAUTH_GOOGLE_*, ..., OAUTH_OIDC_*), read through getenv
// like the rest of the configuration so that tests stay hermetic. The demo
// accepts each login's user (OAuthLogin.User): for Chainlit's providers the
// identifier Chainlit gave (GitHub's login, the e-mail...), so that a
// Chainlit .env keeps its users; for OAUTH_OIDC_* the verified e-mail, or
// "provider:subject". A provider whose variables are only partly set stops
// the start, unless CHATAUTH_OAUTH_PARTIAL=skip skips it with a warning, as
// Chainlit does. Nothing is fetched from the providers here (OAUTH_OIDC_*
// excepted, which is configured by discovery).
func addProviders(a *chatauth.Auth, getenv func(string) string, log *slog.Logger) error {
	var opts []providers.EnvOption
	switch v := getenv("CHATAUTH_OAUTH_PARTIAL"); v {
	case "", "refuse":
	case "skip":
		opts = append(opts, providers.SkipPartlyConfigured(log))
	default:
		return fmt.Errorf("CHATAUTH_OAUTH_PARTIAL=%q: want skip or refuse", v)
	}
	ps, err := providers.FromEnv(getenv, opts...)
	if err != nil {
		return fmt.Errorf("%w (CHATAUTH_OAUTH_PARTIAL=skip skips such providers, as Chainlit does)", err)
	}
	if len(ps) == 0 {
		return nil
	}
	a.OnOAuth(func(_ context.Context, l chatauth.OAuthLogin) (*chatauth.User, error) {
		return l.User, nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for _, p := range ps {
		if err := a.AddProvider(ctx, p); err != nil {
			return err
		}
	}
	return nil
}
