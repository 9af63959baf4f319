package chatauthtest

import (
	"math/bits"
	"strings"
)

// Misbehavior is a set of faults the provider can be told to commit, each a
// check a careful relying party makes. Combine them with |.
type Misbehavior uint64

// The faults. Those on the id_token apply to the id_tokens of the token
// responses issued while they are on.
const (
	// WrongNonce puts a nonce other than the authorize request's in the
	// id_token (OpenID Connect Core 3.1.3.7 step 11).
	WrongNonce Misbehavior = 1 << iota
	// WrongAudience issues the id_token to another client (aud).
	WrongAudience
	// WrongIssuer names another issuer in the id_token (iss).
	WrongIssuer
	// ExpiredIDToken issues an id_token whose exp passed an hour ago.
	ExpiredIDToken
	// IssuedInFuture issues an id_token whose iat is an hour ahead.
	IssuedInFuture
	// BadSignature signs the id_token with a key that is not in the JWKS,
	// under the kid of the current key.
	BadSignature
	// UnknownKeyID signs the id_token with a key that is not in the JWKS,
	// under a kid the JWKS does not have either.
	UnknownKeyID
	// NoneAlgorithm sends an unsigned id_token (alg "none").
	NoneAlgorithm
	// NoIDToken leaves the id_token out of the token response.
	NoIDToken
	// MultipleAudiencesWithoutAzp issues the id_token to the client and
	// another audience, without azp (Core 3.1.3.7 steps 3 to 5).
	MultipleAudiencesWithoutAzp
	// WrongAzp issues the id_token to the client and another audience,
	// with azp naming the other one.
	WrongAzp
	// NoEmailVerified says email_verified false, in the id_token and the
	// userinfo answer.
	NoEmailVerified
	// ErrorRedirect makes authorize redirect back with an error instead
	// of a code: access_denied unless SetAuthorizeError says otherwise.
	ErrorRedirect
	// WrongState answers authorize with a state other than the request's.
	WrongState
	// NoState answers authorize without the state parameter.
	NoState
	// WrongIssParam answers authorize with an iss parameter (RFC 9207)
	// naming another issuer, as in a mix-up attack.
	WrongIssParam
	// TokenServerError answers every token request 500.
	TokenServerError
	// SlowToken blocks every token request until the client gives up or
	// the provider is closed.
	SlowToken
	// GarbageToken answers every token request 200 with a body that is not
	// JSON.
	GarbageToken
	// ResetConnection resets the connection of every token request
	// without answering.
	ResetConnection
	// UserinfoError answers every userinfo request 500.
	UserinfoError
	// WrongUserinfoSubject answers userinfo with a sub other than the
	// id_token's (Core 5.3.2 says the relying party must compare them).
	WrongUserinfoSubject

	lastMisbehavior
)

var misbehaviorNames = []string{
	"WrongNonce", "WrongAudience", "WrongIssuer", "ExpiredIDToken", "IssuedInFuture",
	"BadSignature", "UnknownKeyID", "NoneAlgorithm", "NoIDToken",
	"MultipleAudiencesWithoutAzp", "WrongAzp", "NoEmailVerified", "ErrorRedirect",
	"WrongState", "NoState", "WrongIssParam", "TokenServerError", "SlowToken",
	"GarbageToken", "ResetConnection", "UserinfoError", "WrongUserinfoSubject",
}

// Misbehaviors lists every single fault, in declaration order: for
// table-driven tests.
func Misbehaviors() []Misbehavior {
	out := make([]Misbehavior, 0, len(misbehaviorNames))
	for m := Misbehavior(1); m < lastMisbehavior; m <<= 1 {
		out = append(out, m)
	}
	return out
}

// String names the faults in m, joined by "|".
func (m Misbehavior) String() string {
	if m == 0 {
		return "none"
	}
	var names []string
	for m != 0 {
		i := bits.TrailingZeros64(uint64(m))
		if i < len(misbehaviorNames) {
			names = append(names, misbehaviorNames[i])
		} else {
			names = append(names, "unknown")
		}
		m &^= 1 << i
	}
	return strings.Join(names, "|")
}

// Default error of ErrorRedirect.
const (
	defaultErrorCode        = "access_denied"
	defaultErrorDescription = "the user denied the request (chatauthtest ErrorRedirect)"
)

// Misbehave turns on the faults in m, on top of those already on.
func (p *Provider) Misbehave(m Misbehavior) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.misbehavior |= m
	p.mu.Unlock()
}

// Behave turns every fault off and restores the default authorize error.
func (p *Provider) Behave() {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.misbehavior = 0
	p.errCode, p.errDesc = defaultErrorCode, defaultErrorDescription
	p.mu.Unlock()
}

// Misbehaving reports whether every fault in m is on.
func (p *Provider) Misbehaving(m Misbehavior) bool {
	if p == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.misbehavior&m == m
}

// SetAuthorizeError sets the error and error_description that ErrorRedirect
// sends (RFC 6749 4.1.2.1), such as "login_required" or
// "temporarily_unavailable". It does not turn ErrorRedirect on.
func (p *Provider) SetAuthorizeError(code, description string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.errCode, p.errDesc = code, description
	p.mu.Unlock()
}

// faults returns the faults that are on.
func (p *Provider) faults() Misbehavior {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.misbehavior
}
