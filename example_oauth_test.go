package chatauth_test

import (
	"context"
	"fmt"
	"log"
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
	fmt.Println(a.Providers())
	// Output: [github]
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
