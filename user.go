package chatauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"time"
)

// User is who a request belongs to. Hooks return one; the session token
// carries it; UserFrom reads it back in the app's handlers.
//
// Its JSON is Chainlit's user JSON:
// {"identifier": "...", "display_name": "..." or null, "metadata": {...}},
// plus "id" and "createdAt" when the app persisted the user.
type User struct {
	// ID is the app's database id of a persisted user, set by the
	// persistence hook (OnPersist, Chainlit's data layer); empty otherwise.
	// chatauth carries it (in the token, at GET R/user) but keys nothing
	// by it: sessions, revocation (EndUserSessions), throttling and
	// provider tokens all go by Identifier.
	ID string
	// Identifier is who the user is, unique within the app (an e-mail, a
	// login): required, set by the login hooks, and the key chatauth
	// knows the user by (EndUserSessions, TokenSource, the logs). Unlike
	// ID, it exists before the user is stored.
	Identifier string
	// DisplayName is shown in the UI; empty is encoded as null.
	DisplayName string
	// Metadata holds whatever the app wants to carry in the session
	// (an avatar URL, a role, the OAuth provider). Keep it small: it travels
	// in a cookie on every request.
	//
	// Read back from a token (UserFrom, VerifyToken, /user) or from JSON,
	// its values are what encoding/json gives an any, except numbers: they
	// are json.Number, which keeps their exact text, so that 2.0 stays 2.0
	// and 9223372036854775809 stays exact through every renewal, as in
	// Chainlit. Use Number.Int64, Number.Float64 or Number.String to read
	// one; values the app puts in keep their Go type until they travel.
	Metadata map[string]any
	// CreatedAt is when a persisted user was first stored; zero otherwise.
	CreatedAt time.Time
}

type userJSON struct {
	ID          string   `json:"id,omitempty"`
	Identifier  string   `json:"identifier"`
	DisplayName *string  `json:"display_name"`
	Metadata    metadata `json:"metadata"`
	CreatedAt   string   `json:"createdAt,omitempty"`
}

// metadata is User.Metadata in JSON: numbers decode as json.Number, so
// that they keep their exact text (2.0, integers beyond 2^53).
type metadata map[string]any

// UnmarshalJSON decodes m with UseNumber.
func (m *metadata) UnmarshalJSON(b []byte) error {
	if !hasNumber(b) { // most metadata: strings, no decoder to set up
		var v map[string]any
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*m = v
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		return err
	}
	*m = v
	return nil
}

func (u User) toJSON() userJSON {
	j := userJSON{ID: u.ID, Identifier: u.Identifier, Metadata: u.Metadata}
	if u.DisplayName != "" {
		name := u.DisplayName
		j.DisplayName = &name
	}
	if j.Metadata == nil {
		j.Metadata = metadata{}
	}
	if !u.CreatedAt.IsZero() {
		j.CreatedAt = u.CreatedAt.UTC().Format(time.RFC3339)
	}
	return j
}

func (j userJSON) user() User {
	u := User{ID: j.ID, Identifier: j.Identifier, Metadata: j.Metadata}
	if j.DisplayName != nil {
		u.DisplayName = *j.DisplayName
	}
	if j.CreatedAt != "" {
		// Chainlit writes ISO 8601, with or without a zone.
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999"} {
			if t, err := time.Parse(layout, j.CreatedAt); err == nil {
				u.CreatedAt = t
				break
			}
		}
	}
	return u
}

// MarshalJSON encodes u as Chainlit's user JSON.
func (u User) MarshalJSON() ([]byte, error) { return json.Marshal(u.toJSON()) }

// UnmarshalJSON decodes Chainlit's user JSON; numbers in metadata become
// json.Number, so that they keep their exact text.
func (u *User) UnmarshalJSON(b []byte) error {
	if u == nil {
		return errors.New("chatauth: UnmarshalJSON into a nil *User")
	}
	var j userJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*u = j.user()
	return nil
}

// UserFrom returns the user that RequireUser or WithUser put into ctx, or nil
// when the request has no valid session. It is the request's own copy:
// changing it, Metadata included, changes no other request's user (nor the
// session's token: use StartSession for that).
func UserFrom(ctx context.Context) *User {
	if ctx == nil {
		return nil
	}
	if s, _ := ctx.Value(sessionKey{}).(*Session); s != nil {
		return s.User
	}
	return nil
}

// SessionFrom returns the session that RequireUser or WithUser found for the
// request, or nil.
func SessionFrom(ctx context.Context) *Session {
	if ctx == nil {
		return nil
	}
	s, _ := ctx.Value(sessionKey{}).(*Session)
	return s
}

type sessionKey struct{}

// Session is a verified session token: who it is for and when it ends.
type Session struct {
	// User is the user the token was issued to.
	User *User
	// ID is the session id: the sid claim, random at login and shared by
	// every token of the session's family (its renewals, the tokens POST
	// /auth/jwt makes from it, a later login of the same user in the same
	// browser), stable across them. It is the handle logout revokes, which
	// ends the whole family. For a token without sid (older chatauth
	// tokens) it is the jti, and for one without jti either (Chainlit's)
	// "sha256:" and a hash of the token: then it is also the TokenID.
	ID string
	// TokenID is the token's own id (jti, or the hash name when there is
	// none): renewals keep it, every other new token gets a new one. A
	// login that replaces a session revokes the replaced TokenID only, and
	// EndOtherSessions spares this one.
	TokenID string
	// IssuedAt and ExpiresAt are the token's iat and exp. With an idle
	// timeout, ExpiresAt moves forward as the session is renewed.
	IssuedAt, ExpiresAt time.Time
	// AbsoluteExpiresAt is the session's end, which renewal never passes.
	AbsoluteExpiresAt time.Time
	// Provider is the OAuth provider the user logged in with, if any.
	Provider string

	// headerHash is the token's hdr claim: the header values a header
	// login started the session with.
	headerHash string
}

// hasNumber reports whether the JSON text b has a number outside its
// strings.
func hasNumber(b []byte) bool {
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			i = stringEnd(b, i) - 1
		case c == '-' || '0' <= c && c <= '9':
			return true
		}
	}
	return false
}

// clone is a copy of s that shares nothing that can be changed with s:
// its User and the User's Metadata, nested maps and slices included, are
// copied. The verified-token cache hands each request a clone.
func (s *Session) clone() *Session {
	if s == nil {
		return nil
	}
	// One allocation for the session and its user: this runs on every
	// authenticated request.
	c := &struct {
		s Session
		u User
	}{s: *s}
	if s.User != nil {
		c.u = *s.User
		c.u.Metadata = cloneMetadata(s.User.Metadata)
		c.s.User = &c.u
	}
	return &c.s
}

// cloneMetadata deep-copies metadata decoded from JSON: maps and slices
// are copied, other values (strings, json.Number, bools) are immutable.
func cloneMetadata(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = cloneJSONValue(v)
	}
	return c
}

func cloneJSONValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return cloneMetadata(v)
	case []any:
		c := make([]any, len(v))
		for i, e := range v {
			c[i] = cloneJSONValue(e)
		}
		return c
	}
	return v
}
