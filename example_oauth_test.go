package chatauth_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"os"

	"github.com/chatauth/chatauth"
)

// A chat app with "Sign in with GitHub": the default user is the verified
// primary e-mail, or "github:<numeric id>" when GitHub has none verified.
func ExampleGitHub() {
	a, err := chatauth.New(chatauth.Config{
		Secret:  []byte("a secret of at least thirty-two bytes!!"),
		BaseURL: "https://chat.example.com",
	})
	if err != nil {
		log.Fatal(err)
	}
	a.OnOAuth(func(ctx context.Context, l chatauth.OAuthLogin) (*chatauth.User, error) {
		if l.DefaultUser.Metadata["email_unverified"] == true {
			return nil, nil // this app only admits verified addresses
		}
		return l.DefaultUser, nil
	})
	gh := chatauth.GitHub(os.Getenv("OAUTH_GITHUB_CLIENT_ID"), os.Getenv("OAUTH_GITHUB_CLIENT_SECRET"))
	gh.ClientID, gh.ClientSecret = "Iv1.example", "example-secret" // for the example
	if err := a.AddProvider(context.Background(), gh); err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	a.Mount(mux) // GET /auth/oauth/github starts the login
	for _, p := range a.LoginMethods().Providers {
		fmt.Println(p.ID, p.Name)
	}
	// Output: github GitHub
}

// Any OpenID Connect issuer, configured by discovery: AddProvider reads
// the issuer's /.well-known/openid-configuration once, at start-up, and
// its id_tokens are then verified against the issuer's keys.
func ExampleOIDC() {
	a, err := chatauth.New(chatauth.Config{Secret: []byte("a secret of at least thirty-two bytes!!")})
	if err != nil {
		log.Fatal(err)
	}
	a.OnOAuth(func(ctx context.Context, l chatauth.OAuthLogin) (*chatauth.User, error) {
		return l.DefaultUser, nil
	})
	corp := chatauth.OIDC("corp", "https://id.example.com", "client-id", "client-secret")
	corp.Prompt = "login" // always ask: no silent re-login after logout
	ctx, cancel := context.WithTimeout(context.Background(), 0)
	defer cancel()
	if err := a.AddProvider(ctx, corp); err != nil {
		// Here no issuer answers: in a real app this stops the start.
		fmt.Println("provider not added")
	}
	// Output: provider not added
}

// The providers of a Chainlit .env keep Chainlit's identifiers (GitHub's
// login here); a provider whose variables are only partly set is skipped
// with a warning, as Chainlit does, instead of stopping the start.
func ExampleProvidersFromEnv() {
	env := map[string]string{ // a Chainlit .env
		"OAUTH_GITHUB_CLIENT_ID":     "Iv1.example",
		"OAUTH_GITHUB_CLIENT_SECRET": "example-secret",
		"OAUTH_GOOGLE_CLIENT_ID":     "left over, without its secret",
	}
	providers, err := chatauth.ProvidersFromEnv(func(k string) string { return env[k] },
		chatauth.SkipPartlyConfigured(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range providers {
		fmt.Println(p.ID, p.Identity)
	}
	// Output: github chainlit
}

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
	providers := []*chatauth.Provider{chatauth.GitHub("Iv1.example", "example-secret")}
	for _, p := range providers { // from chatauth.ProvidersFromEnv
		p.Identity = chatauth.VerifiedIdentity // new people get collision-safe identifiers
	}
	hook := func(ctx context.Context, l chatauth.OAuthLogin) (*chatauth.User, error) {
		u := l.DefaultUser
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
		l.DefaultUser, _ = chatauth.DefaultUser(providers[0], raw)
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
