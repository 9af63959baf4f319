package chatauth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// idTokenAlgorithms are the signature algorithms accepted on id_tokens:
// asymmetric only, so a client secret can never be used as a key.
var idTokenAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// verifyIDToken applies OpenID Connect Core 3.1.3.7 to an id_token: the
// signature against the issuer's keys, iss, aud, azp, exp, iat and nonce.
// Errors name the check that failed.
func (a *Auth) verifyIDToken(ctx context.Context, p *Provider, raw, nonce string) (map[string]any, error) {
	parser := jwt.NewParser(
		jwt.WithValidMethods(idTokenAlgorithms),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithAudience(p.ClientID),
		jwt.WithLeeway(time.Minute),
		jwt.WithTimeFunc(a.now),
	)
	claims := jwt.MapClaims{}
	_, err := parser.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		keys, err := p.keys.Keys(ctx, kid)
		if err != nil {
			return nil, err
		}
		set := jwt.VerificationKeySet{}
		for _, k := range keys {
			set.Keys = append(set.Keys, k)
		}
		return set, nil
	})
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, fmt.Errorf("id_token expired: %w", err)
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return nil, fmt.Errorf("id_token audience is not client id %q: %w", p.ClientID, err)
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return nil, fmt.Errorf("id_token signature does not verify with the issuer's keys: %w", err)
	case err != nil:
		return nil, fmt.Errorf("id_token invalid: %w", err)
	}
	iss, _ := claims["iss"].(string)
	tid, _ := claims["tid"].(string)
	if ok, err := a.acceptsIssuer(ctx, p, iss, tid); !ok {
		return nil, fmt.Errorf("id_token issued by a different provider, expected %q got %q%s", p.Issuer, iss, because(err))
	}
	if _, ok := claims["iat"]; !ok {
		return nil, errors.New("id_token has no iat")
	}
	if sub, _ := claims["sub"].(string); sub == "" {
		return nil, errors.New("id_token has no sub")
	}
	got, _ := claims["nonce"].(string)
	if nonce != "" && subtle.ConstantTimeCompare([]byte(got), []byte(nonce)) != 1 {
		return nil, errors.New("id_token nonce does not match the one sent (replayed or injected token)")
	}
	aud, _ := claims.GetAudience()
	azp, hasAzp := claims["azp"].(string)
	if len(aud) > 1 && !hasAzp {
		return nil, errors.New("id_token has several audiences and no azp")
	}
	if hasAzp && azp != p.ClientID {
		return nil, fmt.Errorf("id_token azp %q is not client id %q", azp, p.ClientID)
	}
	return claims, nil
}
