// Package userdata reads an OAuth provider's user data: the JSON GET of a
// user-info endpoint, the claim accessors, the stable subject and the
// collision-safe identity rule. The root package uses it for a Provider
// without MapUser, the providers package for its presets.
package userdata

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
)

// MaxBody bounds what is read from a provider.
const MaxBody = 1 << 20

// GetJSON GETs where with client (which may add a token) and decodes the
// JSON answer into v, numbers as json.Number: a numeric id beyond 2^53 is
// somebody's, not a rounded neighbour's.
func GetJSON(ctx context.Context, client *http.Client, where string, v any) error {
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, where, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d", where, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody))
	if err != nil {
		return fmt.Errorf("GET %s: %w", where, err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("GET %s: not JSON: %w", where, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("GET %s: not JSON: data after the value", where)
	}
	return nil
}

// String is raw[k] as text: a string, or a number written exactly.
func String(raw map[string]any, k string) string {
	switch v := raw[k].(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case json.Number:
		return v.String()
	}
	return ""
}

// First is the first of keys that raw has as non-empty text.
func First(raw map[string]any, keys ...string) string {
	for _, k := range keys {
		if v := String(raw, k); v != "" {
			return v
		}
	}
	return ""
}

// Bool reads a boolean that some providers send as a string.
func Bool(raw map[string]any, k string) bool {
	switch v := raw[k].(type) {
	case bool:
		return v
	case string:
		return v == "true"
	}
	return false
}

// ErrNoSubject is a user-data answer without a stable subject.
var ErrNoSubject = errors.New("user data has no subject (sub or id)")

// Subject is the provider's stable subject for this user: the first of
// keys (sub, then id, when nil), else the value of a non-e-mail
// identifierClaim (a Generic API that only sends "account_id"). A number
// decoded as float64 beyond 2^53, or with a fraction, may have been
// rounded: two users could share it, so it is refused.
func Subject(raw map[string]any, keys []string, identifierClaim string) (string, error) {
	if len(keys) == 0 {
		keys = []string{"sub", "id"}
	}
	if c := identifierClaim; c != "" && c != "email" {
		keys = append(keys[:len(keys):len(keys)], c)
	}
	for _, k := range keys {
		if f, ok := raw[k].(float64); ok && (f != math.Trunc(f) || math.Abs(f) >= 1<<53) {
			return "", fmt.Errorf("user data %s %v is a number too large to be exact (decode it with json.Number)", k, f)
		}
		if s := String(raw, k); s != "" {
			return s, nil
		}
	}
	return "", ErrNoSubject
}

// VerifiedEmail is the e-mail the provider says is verified: email with
// email_verified (OpenID) or verified_email (Google's v2 user info), else
// the primary verified address of a GitHub-style "emails" list.
func VerifiedEmail(raw map[string]any) string {
	if e := String(raw, "email"); e != "" && (Bool(raw, "email_verified") || Bool(raw, "verified_email")) {
		return e
	}
	list, _ := raw["emails"].([]any)
	for _, item := range list {
		m, _ := item.(map[string]any)
		if e := String(m, "email"); e != "" && Bool(m, "primary") && Bool(m, "verified") {
			return e
		}
	}
	return ""
}

// User is a mapped user, before it becomes a chatauth.User.
type User struct {
	Identifier, DisplayName string
	Metadata                map[string]any
}

// Verified is the collision-safe mapping: metadata records "provider" and
// the stable "subject"; the identifier is the value of a non-e-mail
// identifierClaim when present (the app vouches for it), else the e-mail
// when the provider says it is verified and it is a plain address, else
// "providerID:subject" with metadata "email_unverified" when there was an
// e-mail.
func Verified(providerID, identifierClaim string, subjectKeys []string, raw map[string]any) (*User, error) {
	subject, err := Subject(raw, subjectKeys, identifierClaim)
	if err != nil {
		return nil, err
	}
	md := map[string]any{"provider": providerID, "subject": subject}
	if img := First(raw, "picture", "avatar_url", "image"); img != "" {
		md["image"] = img
	}
	u := &User{Metadata: md, DisplayName: First(raw, "name", "displayName", "login", "preferred_username")}
	claim := identifierClaim
	if claim == "" {
		claim = "email"
	}
	email := String(raw, "email")
	verified := VerifiedEmail(raw)
	if verified != "" {
		email = verified
	}
	if email != "" {
		md["email"] = email
	}
	switch {
	case claim != "email" && String(raw, claim) != "":
		u.Identifier = String(raw, claim)
	case verified != "" && PlainAddress(verified):
		u.Identifier = verified
	default:
		u.Identifier = providerID + ":" + subject
		if email != "" {
			md["email_unverified"] = true
		}
	}
	return u, nil
}

// PlainAddress reports whether an e-mail looks like one: an @, and no
// colon that could make it read as a "provider:subject" identifier.
func PlainAddress(email string) bool {
	return strings.Contains(email, "@") && !strings.Contains(email, ":")
}

// DescribeVerified says in a log line which identifier Verified gives.
func DescribeVerified(providerID, identifierClaim string) string {
	if identifierClaim != "" && identifierClaim != "email" {
		return fmt.Sprintf("verified: user data %q as given, else the verified e-mail, else %s:<subject>", identifierClaim, providerID)
	}
	return fmt.Sprintf("verified: verified e-mail, else %s:<subject>", providerID)
}
