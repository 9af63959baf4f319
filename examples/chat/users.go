package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"

	"github.com/chatauth/chatauth"
)

// demoUsername is the user generated when CHATAUTH_DEMO_USERS is empty.
const demoUsername = "demo"

// userTable holds the password users, with bcrypt hashes only.
type userTable struct {
	hashes map[string]string
	names  []string
	// generatedPassword is the demo user's password when it was generated,
	// kept only to print it once at start-up.
	generatedPassword string
}

// loadUsers reads CHATAUTH_DEMO_USERS ("alice:pw1,bob:pw2") and hashes each
// password with bcrypt; with no users given it makes one demo user with a
// random password.
func loadUsers(spec string) (*userTable, error) {
	t := &userTable{hashes: map[string]string{}}
	pairs, err := parseUsers("CHATAUTH_DEMO_USERS", spec)
	if err != nil {
		return nil, err
	}
	if len(pairs) == 0 {
		t.generatedPassword = randomPassword()
		pairs = [][2]string{{demoUsername, t.generatedPassword}}
	}
	for _, p := range pairs {
		hash, err := chatauth.HashPassword(p[1])
		if err != nil {
			return nil, fmt.Errorf("CHATAUTH_DEMO_USERS: user %q: %w", p[0], err)
		}
		t.hashes[p[0]] = hash
		t.names = append(t.names, p[0])
	}
	return t, nil
}

// parseUsers splits "alice:pw1,bob:pw2", the value of the variable named
// variable, into name and secret pairs; a secret may contain colons but
// not commas.
func parseUsers(variable, spec string) ([][2]string, error) {
	var pairs [][2]string
	seen := map[string]bool{}
	for i, entry := range strings.Split(spec, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		name, password, ok := strings.Cut(entry, ":")
		name = strings.TrimSpace(name)
		switch {
		case !ok || name == "" || password == "":
			return nil, fmt.Errorf("%s: entry %d is not name:secret", variable, i+1)
		case seen[name]:
			return nil, fmt.Errorf("%s: user %q appears twice", variable, name)
		}
		seen[name] = true
		pairs = append(pairs, [2]string{name, password})
	}
	return pairs, nil
}

// check is the password hook. An unknown user is compared against an empty
// hash, which costs the same time as a real comparison.
func (t *userTable) check(_ context.Context, username, password string) (*chatauth.User, error) {
	if !chatauth.CheckPassword(t.hashes[username], password) {
		return nil, nil
	}
	return &chatauth.User{
		Identifier: username,
		Metadata:   map[string]any{"provider": "credentials"},
	}, nil
}

// randomPassword is 12 characters from an alphabet without look-alikes
// (about 59 bits), grouped by four for reading aloud: "k7qm-x2pd-9tvn".
func randomPassword() string {
	const alphabet = "abcdefghjkmnpqrstuvwxyz23456789" // no i, l, o, 0, 1
	var b strings.Builder
	buf := make([]byte, 1)
	for n := 0; n < 12; {
		_, _ = rand.Read(buf)
		// Rejection sampling: only bytes below a multiple of the alphabet's
		// size keep every symbol equally likely.
		if int(buf[0]) >= 256/len(alphabet)*len(alphabet) {
			continue
		}
		if n > 0 && n%4 == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(alphabet[int(buf[0])%len(alphabet)])
		n++
	}
	return b.String()
}
