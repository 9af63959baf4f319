package chatauth

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/chatauth/chatauth/internal/jwks"
)

// HostTokens lets POST /auth/jwt accept tokens issued by a host application
// (the site that embeds the chat) with its own asymmetric keys, instead of
// sharing the HMAC secret with it. In this mode HS256 tokens are refused at
// /auth/jwt, and iss and aud are required.
//
// The token becomes the session's user: its "identifier" claim, else its
// "sub", is User.Identifier; "display_name", else "name", is
// User.DisplayName; and its "metadata" object is User.Metadata as is. The
// host is trusted with all of it: it may set any metadata, so an app that
// reads roles or rights from metadata takes them from the host. The session
// ends with the token's exp, and never later than SessionTimeout.
//
// Keys from JWKSURL are fetched on first use, again after an hour, and at
// once when a token names a kid the cached set does not have (the host
// rotated its key), but at most once per 10 seconds: tokens with made-up
// kids must not make chatauth hammer the host. So a host that starts
// signing with a new key the moment it publishes it may see that key's
// tokens refused for up to 10 s, if another new kid started the cooldown
// just before; publish a key before signing with it, as JWKS rotation
// intends. Only a token that passes every check but the signature (alg,
// iss, aud, exp, iat) can cause a fetch, so tokens meant for another
// issuer or audience, or expired ones, never start the cooldown. A forged
// token with the right iss and aud still can: its signature cannot be
// checked without the key it names, which is what the fetch is for.
type HostTokens struct {
	// JWKSURL is where the host publishes its public keys, or
	// PublicKeysPEM holds them ("PUBLIC KEY" blocks). One is required.
	JWKSURL       string
	PublicKeysPEM []byte
	// Issuer and Audience are required and checked on every token.
	Issuer, Audience string
	// Algorithms allowed; default RS256, ES256 and EdDSA.
	Algorithms []string
}

// hostVerifier checks host-issued tokens.
type hostVerifier struct {
	keys   *jwks.Set
	parser *jwt.Parser
	// claims checks a token's claims before its keys are looked up, so
	// that a token for another issuer or audience never makes us fetch.
	claims *jwt.Validator
}

func newHostVerifier(h *HostTokens, client *http.Client, now func() time.Time) (*hostVerifier, error) {
	var missing []string
	if h.Issuer == "" {
		missing = append(missing, "Issuer")
	}
	if h.Audience == "" {
		missing = append(missing, "Audience")
	}
	if h.JWKSURL == "" && len(h.PublicKeysPEM) == 0 {
		missing = append(missing, "JWKSURL or PublicKeysPEM")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("HostTokens: missing %s", strings.Join(missing, ", "))
	}
	algs := h.Algorithms
	if len(algs) == 0 {
		algs = []string{"RS256", "ES256", "EdDSA"}
	}
	for _, alg := range algs {
		if !slices.Contains(idTokenAlgorithms, alg) {
			return nil, fmt.Errorf("HostTokens: algorithm %q is not an asymmetric one (%s)", alg, strings.Join(idTokenAlgorithms, ", "))
		}
	}
	checks := []jwt.ParserOption{
		jwt.WithIssuer(h.Issuer), jwt.WithAudience(h.Audience),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithLeeway(5 * time.Second), jwt.WithTimeFunc(now),
	}
	v := &hostVerifier{
		parser: jwt.NewParser(append(checks, jwt.WithValidMethods(algs),
			jwt.WithJSONNumber())...), // metadata numbers keep their exact text
		claims: jwt.NewValidator(checks...),
	}
	if h.JWKSURL != "" {
		v.keys = jwks.New(h.JWKSURL, client)
		return v, nil
	}
	keys, err := parsePublicKeys(h.PublicKeysPEM)
	if err != nil {
		return nil, fmt.Errorf("HostTokens: %w", err)
	}
	v.keys = jwks.Static(keys...)
	return v, nil
}

func parsePublicKeys(b []byte) ([]any, error) {
	var keys []any
	for {
		var block *pem.Block
		if block, b = pem.Decode(b); block == nil {
			break
		}
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("PEM block %q: %w", block.Type, err)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, errors.New("no PEM public key found")
	}
	return keys, nil
}

// verify checks a host-issued token and returns its user and expiry. The
// identifier is the token's "identifier" claim, else its "sub"; see
// HostTokens.
func (v *hostVerifier) verify(ctx context.Context, token string) (*User, time.Time, error) {
	claims := jwt.MapClaims{}
	_, err := v.parser.ParseWithClaims(token, claims, jwksKeyFunc(ctx, v.keys, func(t *jwt.Token) error {
		if err := checkHeaderSegment(t.Raw); err != nil {
			return err
		}
		if err := checkPayloadNames(t.Raw); err != nil {
			return err
		}
		if err := v.claims.Validate(t.Claims); err != nil {
			return fmt.Errorf("claims checked before fetching keys: %w", err)
		}
		return nil
	}))
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("%w: host token: %w", ErrInvalidToken, err)
	}
	exp, _ := claims.GetExpirationTime()
	u := &User{Identifier: firstClaim(claims, "identifier", "sub"), DisplayName: firstClaim(claims, "display_name", "name")}
	if md, ok := claims["metadata"].(map[string]any); ok {
		u.Metadata = md
	}
	if u.Identifier == "" {
		return nil, time.Time{}, fmt.Errorf("%w: host token has neither identifier nor sub", ErrInvalidToken)
	}
	return u, exp.Time, nil
}

// embedOrigin returns the request's Origin when it is one of EmbedOrigins.
func (a *Auth) embedOrigin(r *http.Request) string {
	o := r.Header.Get("Origin")
	if o != "" && slices.Contains(a.cfg.EmbedOrigins, o) {
		return o
	}
	return ""
}

// cors answers the embedding origins' CORS requests on the auth routes:
// the exact origin, with credentials, never "*"; preflights get 204.
func (a *Auth) cors(h http.Handler) http.Handler {
	if len(a.cfg.EmbedOrigins) == 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Origin")
		if o := a.embedOrigin(r); o != "" {
			w.Header().Set("Access-Control-Allow-Origin", o)
			w.Header().Set("Access-Control-Allow-Credentials", "true")
		}
		h.ServeHTTP(w, r)
	})
}

// CORS applies the CORS policy of the auth routes to the app's own routes:
// requests from Config.Origins.Embed are answered with their exact origin
// and Access-Control-Allow-Credentials, so that the embedded page's fetch
// with credentials: "include" can read the answer; preflights (OPTIONS
// with Access-Control-Request-Method) are answered 204 here, before next,
// since they carry no credentials for RequireUser to check. Without
// EmbedOrigins it returns next unchanged; a nil next answers 404 to all
// but preflights. Wrap RequireUser with it, on a pattern without a method
// so that preflights reach it:
//
//	mux.Handle("/api/", a.CORS(a.RequireUser(api)))
func (a *Auth) CORS(next http.Handler) http.Handler {
	next = orNotFound(next)
	if len(a.embedOrigins()) == 0 {
		return next
	}
	preflight := a.cors(http.HandlerFunc(a.servePreflight))
	actual := a.cors(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			preflight.ServeHTTP(w, r)
			return
		}
		actual.ServeHTTP(w, r)
	})
}

// servePreflight answers CORS preflight requests of the embedding origins.
func (a *Auth) servePreflight(w http.ResponseWriter, r *http.Request) {
	if a.embedOrigin(r) == "" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.Header().Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE")
	w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Requested-With")
	w.Header().Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}

// AllowFraming lets the pages of next be shown in frames of the app's own
// origin and of Config.Origins.Embed only (Content-Security-Policy
// frame-ancestors); with no EmbedOrigins, only the app's own.
func (a *Auth) AllowFraming(next http.Handler) http.Handler {
	next = orNotFound(next)
	policy := "frame-ancestors " + a.FrameAncestors()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", policy)
		next.ServeHTTP(w, r)
	})
}

// FrameAncestors is the source list of the Content-Security-Policy
// frame-ancestors directive that AllowFraming sends: the app's own origin
// and Config.Origins.Embed ("'self' https://host.example"), for a page that
// writes its whole policy itself.
func (a *Auth) FrameAncestors() string {
	sources := "'self'"
	for _, o := range a.embedOrigins() {
		sources += " " + o
	}
	return sources
}

// embedOrigins is Config.Origins.Embed, none for a nil Auth.
func (a *Auth) embedOrigins() []string {
	if a == nil {
		return nil
	}
	return a.cfg.EmbedOrigins
}
