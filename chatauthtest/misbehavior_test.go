package chatauthtest

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"
)

// idTokenFault expects the id_token to fail verification with want.
func idTokenFault(want error) func(t *testing.T, p *Provider, f *flow) {
	return func(t *testing.T, p *Provider, f *flow) {
		_, err := verifyIDToken(t, p, idToken(t, f.login(t)), f.nonce)
		if !errors.Is(err, want) {
			t.Errorf("id_token verification: %v, want %v", err, want)
		}
	}
}

// tokenFault expects the exchange to fail, with check saying how.
func tokenFault(check func(t *testing.T, err error)) func(t *testing.T, p *Provider, f *flow) {
	return func(t *testing.T, p *Provider, f *flow) {
		tok, err := f.exchange(t, f.code(t))
		if err == nil {
			t.Fatalf("exchange succeeded: %v", tok)
		}
		check(t, err)
	}
}

// authorizeFault expects the authorize redirect parameters to pass check.
func authorizeFault(check func(t *testing.T, p *Provider, f *flow, q map[string][]string)) func(t *testing.T, p *Provider, f *flow) {
	return func(t *testing.T, p *Provider, f *flow) {
		check(t, p, f, f.authorize(t, f.authURL()))
	}
}

var misbehaviorTests = map[Misbehavior]func(t *testing.T, p *Provider, f *flow){
	WrongNonce:                  idTokenFault(errNonce),
	WrongAudience:               idTokenFault(jwt.ErrTokenInvalidAudience),
	WrongIssuer:                 idTokenFault(jwt.ErrTokenInvalidIssuer),
	ExpiredIDToken:              idTokenFault(jwt.ErrTokenExpired),
	IssuedInFuture:              idTokenFault(jwt.ErrTokenUsedBeforeIssued),
	BadSignature:                idTokenFault(jwt.ErrTokenSignatureInvalid),
	UnknownKeyID:                idTokenFault(jwt.ErrTokenUnverifiable),
	NoneAlgorithm:               idTokenFault(jwt.ErrTokenSignatureInvalid),
	MultipleAudiencesWithoutAzp: idTokenFault(errAzpMissing),
	WrongAzp:                    idTokenFault(errAzp),
	NoIDToken: func(t *testing.T, p *Provider, f *flow) {
		if tok := f.login(t); tok.Extra("id_token") != nil {
			t.Error("token response has an id_token")
		}
	},
	NoEmailVerified: func(t *testing.T, p *Provider, f *flow) {
		tok := f.login(t)
		c, err := verifyIDToken(t, p, idToken(t, tok), f.nonce)
		if err != nil || c["email_verified"] != false {
			t.Errorf("id_token: %v, email_verified %v", err, c["email_verified"])
		}
		if _, info := userinfo(t, p, tok.AccessToken); info["email_verified"] != false {
			t.Errorf("userinfo email_verified %v", info["email_verified"])
		}
	},
	ErrorRedirect: func(t *testing.T, p *Provider, f *flow) {
		q := f.authorize(t, f.authURL())
		if q.Get("error") != "access_denied" || q.Get("error_description") == "" || q.Get("code") != "" || q.Get("state") != f.state {
			t.Errorf("authorize answered %v, want access_denied with state", q)
		}
		p.SetAuthorizeError("login_required", "no session")
		q = f.authorize(t, f.authURL())
		if q.Get("error") != "login_required" || q.Get("error_description") != "no session" {
			t.Errorf("authorize answered %v, want login_required", q)
		}
	},
	WrongState: authorizeFault(func(t *testing.T, p *Provider, f *flow, q map[string][]string) {
		if s := q["state"]; len(s) != 1 || s[0] == f.state || len(q["code"]) != 1 {
			t.Errorf("authorize answered %v, want a code and another state", q)
		}
	}),
	NoState: authorizeFault(func(t *testing.T, p *Provider, f *flow, q map[string][]string) {
		if _, ok := q["state"]; ok || len(q["code"]) != 1 {
			t.Errorf("authorize answered %v, want a code without state", q)
		}
	}),
	WrongIssParam: authorizeFault(func(t *testing.T, p *Provider, f *flow, q map[string][]string) {
		if iss := q["iss"]; len(iss) != 1 || iss[0] == p.Issuer {
			t.Errorf("authorize answered %v, want another iss", q)
		}
	}),
	TokenServerError: tokenFault(func(t *testing.T, err error) {
		retrieveError(t, err, http.StatusInternalServerError, "server_error")
	}),
	GarbageToken: tokenFault(func(t *testing.T, err error) {
		if !strings.Contains(err.Error(), "cannot parse json") {
			t.Errorf("exchange: %v, want a JSON error", err)
		}
	}),
	ResetConnection: tokenFault(func(t *testing.T, err error) {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			t.Errorf("exchange got an answer, want a dropped connection: %v", err)
		}
	}),
	SlowToken: func(t *testing.T, p *Provider, f *flow) {
		code := f.code(t)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		go func() {
			waitFor(t, func() bool { return p.Counts().Token == 1 })
			cancel()
		}()
		_, err := f.cfg.Exchange(ctx, code, oauth2.VerifierOption(f.verifier))
		if !errors.Is(err, context.Canceled) {
			t.Errorf("exchange: %v, want it blocked until cancelled", err)
		}
	},
	UserinfoError: func(t *testing.T, p *Provider, f *flow) {
		if status, _ := userinfo(t, p, f.login(t).AccessToken); status != http.StatusInternalServerError {
			t.Errorf("userinfo: %d, want 500", status)
		}
	},
	WrongUserinfoSubject: func(t *testing.T, p *Provider, f *flow) {
		tok := f.login(t)
		c, err := verifyIDToken(t, p, idToken(t, tok), f.nonce)
		if err != nil {
			t.Fatal(err)
		}
		if _, info := userinfo(t, p, tok.AccessToken); info["sub"] == c["sub"] {
			t.Errorf("userinfo sub %v is the id_token's", info["sub"])
		}
	},
}

func TestMisbehaviors(t *testing.T) {
	for _, m := range Misbehaviors() {
		t.Run(m.String(), func(t *testing.T) {
			check := misbehaviorTests[m]
			if check == nil {
				t.Fatalf("no test for %v", m)
			}
			p := NewProvider(t)
			p.Misbehave(m)
			if !p.Misbehaving(m) {
				t.Fatalf("Misbehaving(%v) is false after Misbehave", m)
			}
			check(t, p, newFlow(p))

			p.Behave() // back to normal
			f := newFlow(p)
			tok := f.login(t)
			if _, err := verifyIDToken(t, p, idToken(t, tok), f.nonce); err != nil {
				t.Errorf("after Behave: %v", err)
			}
		})
	}
}

func TestMisbehaviorString(t *testing.T) {
	if got := (WrongNonce | SlowToken).String(); got != "WrongNonce|SlowToken" {
		t.Errorf("String() = %q", got)
	}
	if got := Misbehavior(0).String(); got != "none" {
		t.Errorf("String() = %q", got)
	}
	if n := len(Misbehaviors()); n != len(misbehaviorNames) {
		t.Errorf("%d misbehaviors, %d names", n, len(misbehaviorNames))
	}
}

func TestCloseWithSlowTokenInFlight(t *testing.T) {
	p := NewProvider(t)
	p.Misbehave(SlowToken)
	f := newFlow(p)
	code := f.code(t)
	exchanged := make(chan error, 1)
	go func() {
		_, err := f.cfg.Exchange(context.Background(), code, oauth2.VerifierOption(f.verifier))
		exchanged <- err
	}()
	waitFor(t, func() bool { return p.Counts().Token == 1 })
	closed := make(chan struct{})
	go func() { p.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close hangs with a SlowToken request in flight")
	}
	if err := <-exchanged; err == nil {
		t.Error("the blocked exchange succeeded")
	}
}

func TestMisbehaveConcurrently(t *testing.T) {
	p := NewProvider(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 100 {
			p.Misbehave(NoState)
			p.Behave()
		}
	}()
	for range 5 {
		f := newFlow(p)
		f.authorize(t, f.authURL())
	}
	<-done
}

// waitFor polls cond until it holds, failing the test after a deadline.
func waitFor(t testing.TB, cond func() bool) {
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline:
			t.Error("condition not met within 10s")
			return
		case <-tick.C:
		}
	}
}
