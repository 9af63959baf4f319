package chatauth

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/chatauth/chatauth/internal/jwks"
)

// googleIssuer is Google's issuer, which Google documents its id_tokens may
// also spell without the scheme.
const googleIssuer = "https://accounts.google.com"

// sameIssuer compares an issuer with the configured one: exactly, where
// "{tenantid}" stands for tenant (Microsoft multi-tenant), and with Google's
// documented second spelling "accounts.google.com".
func sameIssuer(want, got, tenant string) bool {
	if want == googleIssuer && got == "accounts.google.com" {
		return true
	}
	if strings.Contains(want, "{tenantid}") {
		if tenant == "" || strings.ContainsAny(tenant, "/?#") {
			return false
		}
		want = strings.ReplaceAll(want, "{tenantid}", tenant)
	}
	return got == want
}

// issuerDiscovery remembers the issuer that a provider's own discovery
// document names, for providers reached at another URL than the one they
// sign with (Provider.IssuerFromDiscovery).
type issuerDiscovery struct {
	// lock is held (a value sent) while the document is read: a request
	// waiting behind a slow read gives up when its own context ends.
	lock    chan struct{}
	issuer  string
	fetched time.Time // last successful read
	tried   time.Time // last attempt
}

func newIssuerDiscovery() *issuerDiscovery {
	return &issuerDiscovery{lock: make(chan struct{}, 1)}
}

// acceptsIssuer reports whether got, an id_token's iss or an authorization
// response's iss parameter, is p's issuer: p.Issuer, or, with
// IssuerFromDiscovery, the issuer its discovery document names. The
// document is read only when got is not p.Issuer, then kept for
// jwks.MaxAge, and read at most once per jwks.MinRefresh after a failure.
func (a *Auth) acceptsIssuer(ctx context.Context, p *Provider, got, tenant string) (bool, error) {
	if sameIssuer(p.Issuer, got, tenant) {
		return true, nil
	}
	if !p.IssuerFromDiscovery || p.discovered == nil || got == "" {
		return false, nil
	}
	discovered, err := a.discoveredIssuer(ctx, p)
	if err != nil {
		return false, err
	}
	return discovered != "" && got == discovered, nil
}

// discoveredIssuer is the issuer of p's discovery document, read again when
// the cached one is older than jwks.MaxAge.
func (a *Auth) discoveredIssuer(ctx context.Context, p *Provider) (string, error) {
	d := p.discovered
	select {
	case d.lock <- struct{}{}:
	case <-ctx.Done():
		return "", fmt.Errorf("waiting for the issuer's discovery document: %w", ctx.Err())
	}
	defer func() { <-d.lock }()
	now := a.now()
	fresh := !d.fetched.IsZero() && now.Sub(d.fetched) < jwks.MaxAge
	if fresh || (!d.tried.IsZero() && now.Sub(d.tried) < jwks.MinRefresh) {
		return d.issuer, nil
	}
	d.tried = now
	var doc struct {
		Issuer string `json:"issuer"`
	}
	where := strings.TrimRight(p.Issuer, "/") + "/.well-known/openid-configuration"
	if err := a.getJSON(ctx, a.cfg.HTTPClient, where, &doc); err != nil {
		return d.issuer, fmt.Errorf("reading the issuer from OpenID discovery: %w", err)
	}
	if doc.Issuer != d.issuer {
		a.cfg.Logger.Info("chatauth: OAuth provider signs as the issuer its discovery document names",
			slog.String("provider", p.ID), slog.String("issuer", doc.Issuer), slog.String("configured_issuer", p.Issuer))
	}
	d.issuer, d.fetched = doc.Issuer, now
	return d.issuer, nil
}
