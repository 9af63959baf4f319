package chatauth_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"

	"github.com/chatauth/chatauth"
	"github.com/chatauth/chatauth/providers"
)

// linkTable and chatHistory stand for the app's database in the
// migration example.
type linkTable map[string]string

func (l linkTable) Identifier(_ context.Context, key string) (string, error) { return l[key], nil }
func (l linkTable) Save(_ context.Context, key, identifier string) error {
	l[key] = identifier
	return nil
}

type chatHistory map[string]bool

func (h chatHistory) Has(_ context.Context, identifier string) bool { return h[identifier] }

// Moving a Chainlit app to collision-safe identifiers without losing
// anyone's history: the README's hook, linking by subject.
func ExampleOAuthLogin_migration() {
	links := linkTable{}
	history := chatHistory{"octocat": true} // threads Chainlit filed under the GitHub login
	a, err := chatauth.New(chatauth.Config{Secret: []byte("a secret of at least thirty-two bytes!!")})
	if err != nil {
		log.Fatal(err)
	}
	ps := []*chatauth.Provider{providers.GitHub("Iv1.example", "example-secret")}
	for _, p := range ps { // from providers.FromEnv
		providers.UseVerifiedIdentity(p) // new people get collision-safe identifiers
	}
	hook := func(ctx context.Context, l chatauth.OAuthLogin) (*chatauth.User, error) {
		u := l.User
		key := l.Provider + ":" + u.Metadata["subject"].(string)
		id, err := links.Identifier(ctx, key) // "" when this person is not linked yet
		if err != nil {
			return nil, err
		}
		if id == "" {
			id = u.Identifier
			// First login since the switch: take over the history filed under
			// the identifier Chainlit gave (GitHub: the login).
			if login, _ := l.RawUser["login"].(string); login != "" && history.Has(ctx, login) {
				id = login
			}
			if err := links.Save(ctx, key, id); err != nil {
				return nil, err
			}
		}
		u.Identifier = id
		return u, nil
	}
	a.OnOAuth(hook)

	// Logins as the hook sees them: GitHub's /user answer and its
	// verified primary e-mail.
	login := func(raw map[string]any) string {
		l := chatauth.OAuthLogin{Provider: "github", RawUser: raw}
		l.User, _ = providers.VerifiedUser(ps[0], raw)
		u, _ := hook(context.Background(), l)
		return u.Identifier
	}
	octocat := func() map[string]any {
		return map[string]any{"login": "octocat", "id": json.Number("1"),
			"emails": []any{map[string]any{"email": "octocat@github.com", "primary": true, "verified": true}}}
	}
	fmt.Println(login(octocat())) // first login since the switch
	fmt.Println(login(octocat())) // and ever after
	fmt.Println(login(map[string]any{"login": "hubot", "id": json.Number("2"),
		"emails": []any{map[string]any{"email": "hubot@github.com", "primary": true, "verified": true}}}))
	// Output:
	// octocat
	// octocat
	// hubot@github.com
}
