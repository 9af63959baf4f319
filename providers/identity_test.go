package providers

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/chatauth/chatauth"
	"github.com/chatauth/chatauth/internal/testutil"

	"github.com/golang-jwt/jwt/v5"
)

// Recorded user-info answers, from each provider's documentation.
const (
	// GitHub REST API, "Get the authenticated user" and "List email
	// addresses for the authenticated user".
	githubUserAnswer = `{"login":"octocat","id":1,"node_id":"MDQ6VXNlcjE=","avatar_url":"https://github.com/images/error/octocat_happy.gif",` +
		`"gravatar_id":"","url":"https://api.github.com/users/octocat","html_url":"https://github.com/octocat","type":"User",` +
		`"site_admin":false,"name":"monalisa octocat","company":"GitHub","blog":"https://github.com/blog","location":"San Francisco",` +
		`"email":"octocat@github.com","hireable":false,"bio":"There once was...","public_repos":2,"followers":20,"following":0,` +
		`"created_at":"2008-01-14T04:33:35Z","updated_at":"2008-01-14T04:33:35Z"}`
	githubEmailsAnswer = `[{"email":"octocat@github.com","verified":true,"primary":true,"visibility":"public"}]`
	// Google, https://www.googleapis.com/userinfo/v2/me.
	googleUserAnswer = `{"id":"110248495921238986420","email":"ada@example.com","verified_email":true,"name":"Ada Lovelace",` +
		`"given_name":"Ada","family_name":"Lovelace","picture":"https://lh3.googleusercontent.com/a/ACg8ocK","locale":"en","hd":"example.com"}`
	// Microsoft Graph v1.0, "Get user" (GET /me).
	graphUserAnswer = `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users/$entity","businessPhones":["+1 412 555 0109"],` +
		`"displayName":"Megan Bowen","givenName":"Megan","jobTitle":"Auditor","mail":"MeganB@M365x214355.onmicrosoft.com",` +
		`"mobilePhone":null,"officeLocation":"12/1110","preferredLanguage":"en-US","surname":"Bowen",` +
		`"userPrincipalName":"MeganB@M365x214355.onmicrosoft.com","id":"48d31887-5fad-4d73-a9f5-3c356e68a038"}`
	// Okta, GET /oauth2/default/v1/userinfo.
	oktaUserAnswer = `{"sub":"00uid4BxXw6I6TV4m0g3","name":"John Doe","nickname":"Jimmy","given_name":"John","middle_name":"James",` +
		`"family_name":"Doe","profile":"https://example.com/john.doe","zoneinfo":"America/Los_Angeles","locale":"en-US",` +
		`"updated_at":1311280970,"email":"john.doe@example.com","email_verified":true,"phone_number":"+1 (425) 555-1212"}`
	// Auth0, GET /userinfo, of a database user who has not verified the
	// address yet.
	auth0UserAnswer = `{"sub":"248289761001","name":"Jane Josephine Doe","given_name":"Jane","family_name":"Doe","nickname":"JJ",` +
		`"preferred_username":"j.doe","profile":"http://exampleco.com/janedoe","picture":"http://exampleco.com/janedoe/me.jpg",` +
		`"email":"janedoe@exampleco.com","email_verified":false,"locale":"en-US","updated_at":"1556845729"}`
	// Descope, GET /oauth2/v1/userinfo.
	descopeUserAnswer = `{"sub":"U2m9VbKzZbXkOq0Tq8n3y0xKcZkW","email":"ada@example.com","email_verified":true,"name":"Ada Lovelace",` +
		`"picture":"https://static.descope.com/ada.png"}`
	// Amazon Cognito, GET /oauth2/userInfo, of a federated user.
	cognitoUserAnswer = `{"sub":"248289761001","name":"Jane Doe","given_name":"Jane","family_name":"Doe","preferred_username":"j.doe",` +
		`"email":"janedoe@example.com","email_verified":"false"}`
	// GitLab, GET /oauth/userinfo.
	gitlabUserAnswer = `{"sub":"1","sub_legacy":"2bd3803b29f8c2a9f7ef9fbf1b3c2b35e3ebd55d8ea1f2302f8de7f0dd3ea74c","name":"Administrator",` +
		`"nickname":"root","preferred_username":"root","email":"admin@example.com","email_verified":true,"website":"",` +
		`"profile":"https://gitlab.com/root","picture":"https://www.gravatar.com/avatar/e64c7d89f26bd1972efa854d13d7dd61","groups":["gitlab-org"]}`
	// Keycloak, GET /realms/{realm}/protocol/openid-connect/userinfo, of a
	// user an admin created (email_verified false, Keycloak's default).
	keycloakUserAnswer = `{"sub":"f:1a2b:ada","email_verified":false,"name":"Ada Lovelace","preferred_username":"ada",` +
		`"given_name":"Ada","family_name":"Lovelace","email":"ada@example.com"}`
	// Atlassian, GET https://api.atlassian.com/me: no sub, no id.
	atlassianUserAnswer = `{"account_type":"atlassian","account_id":"112233aa-bb11-cc22-33dd-445566abcabc","email":"mia@example.com",` +
		`"name":"Mia Krystof","picture":"https://avatar-management.example/112233aa","account_status":"active","nickname":"mkrystof",` +
		`"zoneinfo":"Australia/Sydney","locale":"en-US"}`
	// Strava, GET /api/v3/athlete (it wants comma-separated scopes).
	stravaUserAnswer = `{"id":134815,"username":"marianne_t","resource_state":3,"firstname":"Marianne","lastname":"Teutenberg",` +
		`"city":"San Francisco","country":"US","sex":"F","premium":true,"created_at":"2017-11-14T02:30:05Z"}`
	// A plain OAuth 2 API whose numeric ids pass 2^53.
	bigIDUserAnswer = `{"id":12345678901234567890,"email":"ada@example.com","username":"ada"}`
)

// graphPhoto stands for the JPEG Microsoft Graph answers for
// /me/photos/48x48/$value.
const graphPhoto = "\xff\xd8\xff\xe0\x00\x10JFIF\x00fake 48x48 photo\xff\xd9"

var graphPhotoURL = "data:image/jpeg;base64," + base64.StdEncoding.EncodeToString([]byte(graphPhoto))

// chainlitCase is one provider configured from Chainlit's variables, the
// answers of its endpoints, and what Chainlit 2.11.1's
// backend/chainlit/oauth_providers.py makes of them.
type chainlitCase struct {
	name    string
	env     map[string]string
	id      string            // route id
	token   string            // token endpoint, host + path
	jwks    string            // OpenID presets: the JWKS, host + path
	answers map[string]answer // host + path -> recorded answer
	idToken jwt.MapClaims     // OpenID presets: the id_token's claims
	scope   string            // the scope sent, when the row checks it
	// Expected, from Chainlit's get_user_info for the same answer, plus
	// chatauth's "subject" (and "provider_id" where Chainlit's provider
	// name is not the route id). display_name is always null in Chainlit.
	identifier string
	metadata   map[string]any
	rawKeys    []string // fields Chainlit's callbacks read in raw_user_data
}

func jsonAnswer(body string) answer { return answer{contentType: "application/json", body: body} }

func chainlitCases() []chainlitCase {
	photo := answer{contentType: "image/jpeg", body: graphPhoto}
	return []chainlitCase{{
		// GithubOAuthProvider.get_user_info: identifier login, image
		// avatar_url, raw user + "emails".
		name: "github", id: "github",
		env:   map[string]string{"OAUTH_GITHUB_CLIENT_ID": "cid", "OAUTH_GITHUB_CLIENT_SECRET": "csecret"},
		token: "github.com/login/oauth/access_token",
		answers: map[string]answer{
			"api.github.com/user":        jsonAnswer(githubUserAnswer),
			"api.github.com/user/emails": jsonAnswer(githubEmailsAnswer),
		},
		scope:      "user:email",
		identifier: "octocat",
		metadata:   map[string]any{"image": "https://github.com/images/error/octocat_happy.gif", "provider": "github", "subject": "1"},
		rawKeys:    []string{"login", "avatar_url", "emails"},
	}, {
		// GoogleOAuthProvider.get_user_info: identifier email, image
		// picture, raw = userinfo/v2/me (with "id").
		name: "google", id: "google",
		env:   map[string]string{"OAUTH_GOOGLE_CLIENT_ID": "cid", "OAUTH_GOOGLE_CLIENT_SECRET": "csecret"},
		token: "oauth2.googleapis.com/token", jwks: "www.googleapis.com/oauth2/v3/certs",
		answers: map[string]answer{"www.googleapis.com/userinfo/v2/me": jsonAnswer(googleUserAnswer)},
		idToken: jwt.MapClaims{"iss": "https://accounts.google.com", "sub": "110248495921238986420", "azp": "cid",
			"email": "ada@example.com", "email_verified": true},
		identifier: "ada@example.com",
		metadata:   map[string]any{"image": "https://lh3.googleusercontent.com/a/ACg8ocK", "provider": "google", "subject": "110248495921238986420"},
		rawKeys:    []string{"id", "email", "verified_email", "picture"},
	}, {
		// AzureADOAuthProvider.get_user_info: identifier
		// userPrincipalName, image the Graph photo as a data URL.
		// (Chainlit also writes the refresh token into the metadata;
		// chatauth keeps tokens out of sessions.)
		name: "azure-ad", id: "azure-ad",
		env:   map[string]string{"OAUTH_AZURE_AD_CLIENT_ID": "cid", "OAUTH_AZURE_AD_CLIENT_SECRET": "csecret", "OAUTH_AZURE_AD_TENANT_ID": "9188040d-6c67-4c5b-b112-36a304b66dad"},
		token: "login.microsoftonline.com/common/oauth2/v2.0/token",
		answers: map[string]answer{
			"graph.microsoft.com/v1.0/me":                     jsonAnswer(graphUserAnswer),
			"graph.microsoft.com/v1.0/me/photos/48x48/$value": photo,
		},
		scope:      "https://graph.microsoft.com/User.Read offline_access",
		identifier: "MeganB@M365x214355.onmicrosoft.com",
		metadata:   map[string]any{"image": graphPhotoURL, "provider": "azure-ad", "subject": "48d31887-5fad-4d73-a9f5-3c356e68a038"},
		rawKeys:    []string{"userPrincipalName", "image"},
	}, {
		// The same, single tenant, OAUTH_AZURE_AD_SCOPES honoured, and a
		// user without a photo: image None (azure_user.get("image")).
		name: "azure-ad single tenant, scopes, no photo", id: "azure-ad",
		env: map[string]string{"OAUTH_AZURE_AD_CLIENT_ID": "cid", "OAUTH_AZURE_AD_CLIENT_SECRET": "csecret",
			"OAUTH_AZURE_AD_TENANT_ID": "contoso.onmicrosoft.com", "OAUTH_AZURE_AD_ENABLE_SINGLE_TENANT": "true",
			"OAUTH_AZURE_AD_SCOPES": "https://graph.microsoft.com/User.Read https://graph.microsoft.com/Mail.Read offline_access"},
		token: "login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token",
		answers: map[string]answer{
			"graph.microsoft.com/v1.0/me":                     jsonAnswer(graphUserAnswer),
			"graph.microsoft.com/v1.0/me/photos/48x48/$value": {status: 404, contentType: "application/json", body: `{"error":{"code":"ImageNotFound"}}`},
		},
		scope:      "https://graph.microsoft.com/User.Read https://graph.microsoft.com/Mail.Read offline_access",
		identifier: "MeganB@M365x214355.onmicrosoft.com",
		metadata:   map[string]any{"image": nil, "provider": "azure-ad", "subject": "48d31887-5fad-4d73-a9f5-3c356e68a038"},
	}, {
		// AzureADHybridOAuthProvider.get_user_info: as azure-ad, and
		// Chainlit writes "azure-ad" as the provider.
		name: "azure-ad-hybrid", id: "azure-ad-hybrid",
		env: map[string]string{"OAUTH_AZURE_AD_HYBRID_CLIENT_ID": "cid", "OAUTH_AZURE_AD_HYBRID_CLIENT_SECRET": "csecret",
			"OAUTH_AZURE_AD_HYBRID_TENANT_ID": "9188040d-6c67-4c5b-b112-36a304b66dad"},
		token: "login.microsoftonline.com/common/oauth2/v2.0/token", jwks: "login.microsoftonline.com/common/discovery/v2.0/keys",
		answers: map[string]answer{
			"graph.microsoft.com/v1.0/me":                     jsonAnswer(graphUserAnswer),
			"graph.microsoft.com/v1.0/me/photos/48x48/$value": photo,
		},
		idToken: jwt.MapClaims{"iss": "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0",
			"tid": "9188040d-6c67-4c5b-b112-36a304b66dad", "sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",
			"oid": "48d31887-5fad-4d73-a9f5-3c356e68a038", "preferred_username": "MeganB@M365x214355.onmicrosoft.com"},
		identifier: "MeganB@M365x214355.onmicrosoft.com",
		metadata: map[string]any{"image": graphPhotoURL, "provider": "azure-ad", "provider_id": "azure-ad-hybrid",
			"subject": "48d31887-5fad-4d73-a9f5-3c356e68a038"},
		rawKeys: []string{"userPrincipalName", "image"},
	}, {
		// OktaOAuthProvider.get_user_info: identifier email, image "".
		name: "okta", id: "okta",
		env:   map[string]string{"OAUTH_OKTA_CLIENT_ID": "cid", "OAUTH_OKTA_CLIENT_SECRET": "csecret", "OAUTH_OKTA_DOMAIN": "dev-1.okta.com"},
		token: "dev-1.okta.com/oauth2/default/v1/token", jwks: "dev-1.okta.com/oauth2/default/v1/keys",
		answers:    map[string]answer{"dev-1.okta.com/oauth2/default/v1/userinfo": jsonAnswer(oktaUserAnswer)},
		idToken:    jwt.MapClaims{"iss": "https://dev-1.okta.com/oauth2/default", "sub": "00uid4BxXw6I6TV4m0g3"},
		identifier: "john.doe@example.com",
		metadata:   map[string]any{"image": "", "provider": "okta", "subject": "00uid4BxXw6I6TV4m0g3"},
	}, {
		// Auth0OAuthProvider.get_user_info: identifier email (verified
		// or not), image picture.
		name: "auth0", id: "auth0",
		env:   map[string]string{"OAUTH_AUTH0_CLIENT_ID": "cid", "OAUTH_AUTH0_CLIENT_SECRET": "csecret", "OAUTH_AUTH0_DOMAIN": "tenant.eu.auth0.com"},
		token: "tenant.eu.auth0.com/oauth/token", jwks: "tenant.eu.auth0.com/.well-known/jwks.json",
		answers:    map[string]answer{"tenant.eu.auth0.com/userinfo": jsonAnswer(auth0UserAnswer)},
		idToken:    jwt.MapClaims{"iss": "https://tenant.eu.auth0.com/", "sub": "248289761001"},
		identifier: "janedoe@exampleco.com",
		metadata:   map[string]any{"image": "http://exampleco.com/janedoe/me.jpg", "provider": "auth0", "subject": "248289761001"},
	}, {
		// DescopeOAuthProvider.get_user_info: identifier email, image "".
		name: "descope", id: "descope",
		env:        map[string]string{"OAUTH_DESCOPE_CLIENT_ID": "cid", "OAUTH_DESCOPE_CLIENT_SECRET": "csecret"},
		token:      "api.descope.com/oauth2/v1/token",
		answers:    map[string]answer{"api.descope.com/oauth2/v1/userinfo": jsonAnswer(descopeUserAnswer)},
		identifier: "ada@example.com",
		metadata:   map[string]any{"image": "", "provider": "descope", "subject": "U2m9VbKzZbXkOq0Tq8n3y0xKcZkW"},
	}, {
		// AWSCognitoOAuthProvider.get_user_info: identifier email,
		// image picture or "".
		name: "aws-cognito", id: "aws-cognito",
		env: map[string]string{"OAUTH_COGNITO_CLIENT_ID": "cid", "OAUTH_COGNITO_CLIENT_SECRET": "csecret",
			"OAUTH_COGNITO_DOMAIN": "example.auth.us-east-1.amazoncognito.com"},
		token:      "example.auth.us-east-1.amazoncognito.com/oauth2/token",
		answers:    map[string]answer{"example.auth.us-east-1.amazoncognito.com/oauth2/userInfo": jsonAnswer(cognitoUserAnswer)},
		identifier: "janedoe@example.com",
		metadata:   map[string]any{"image": "", "provider": "aws-cognito", "subject": "248289761001"},
	}, {
		// GitlabOAuthProvider.get_user_info: identifier email, image
		// picture.
		name: "gitlab", id: "gitlab",
		env:   map[string]string{"OAUTH_GITLAB_CLIENT_ID": "cid", "OAUTH_GITLAB_CLIENT_SECRET": "csecret", "OAUTH_GITLAB_DOMAIN": "gitlab.com"},
		token: "gitlab.com/oauth/token", jwks: "gitlab.com/oauth/discovery/keys",
		answers:    map[string]answer{"gitlab.com/oauth/userinfo": jsonAnswer(gitlabUserAnswer)},
		idToken:    jwt.MapClaims{"iss": "https://gitlab.com", "sub": "1"},
		identifier: "admin@example.com",
		metadata:   map[string]any{"image": "https://www.gravatar.com/avatar/e64c7d89f26bd1972efa854d13d7dd61", "provider": "gitlab", "subject": "1"},
	}, {
		// KeycloakOAuthProvider.get_user_info: identifier email, whether
		// verified or not; metadata {"provider": "keycloak"} whatever
		// OAUTH_KEYCLOAK_NAME says.
		name: "keycloak named corp-sso", id: "corp-sso",
		env: map[string]string{"OAUTH_KEYCLOAK_CLIENT_ID": "cid", "OAUTH_KEYCLOAK_CLIENT_SECRET": "csecret", "OAUTH_KEYCLOAK_REALM": "main",
			"OAUTH_KEYCLOAK_BASE_URL": "https://sso.example.com", "OAUTH_KEYCLOAK_NAME": "corp-sso"},
		token: "sso.example.com/realms/main/protocol/openid-connect/token", jwks: "sso.example.com/realms/main/protocol/openid-connect/certs",
		answers:    map[string]answer{"sso.example.com/realms/main/protocol/openid-connect/userinfo": jsonAnswer(keycloakUserAnswer)},
		idToken:    jwt.MapClaims{"iss": "https://sso.example.com/realms/main", "sub": "f:1a2b:ada"},
		scope:      "profile email openid",
		identifier: "ada@example.com",
		metadata:   map[string]any{"provider": "keycloak", "provider_id": "corp-sso", "subject": "f:1a2b:ada"},
	}, {
		// GenericOAuthProvider.get_user_info: identifier
		// OAUTH_GENERIC_USER_IDENTIFIER (email by default), metadata
		// {"provider": id}; a numeric id past 2^53 stays exact.
		name: "generic, numeric id past 2^53", id: "generic",
		env: map[string]string{"OAUTH_GENERIC_CLIENT_ID": "cid", "OAUTH_GENERIC_CLIENT_SECRET": "csecret",
			"OAUTH_GENERIC_AUTH_URL": "https://api.example.com/oauth/authorize", "OAUTH_GENERIC_TOKEN_URL": "https://api.example.com/oauth/token",
			"OAUTH_GENERIC_USER_INFO_URL": "https://api.example.com/api/me", "OAUTH_GENERIC_SCOPES": "profile"},
		token:      "api.example.com/oauth/token",
		answers:    map[string]answer{"api.example.com/api/me": jsonAnswer(bigIDUserAnswer)},
		identifier: "ada@example.com",
		metadata:   map[string]any{"provider": "generic", "subject": "12345678901234567890"},
	}, {
		// The same with a field that is neither sub nor id.
		name: "generic, account_id only", id: "atlassian",
		env: map[string]string{"OAUTH_GENERIC_CLIENT_ID": "cid", "OAUTH_GENERIC_CLIENT_SECRET": "csecret", "OAUTH_GENERIC_NAME": "atlassian",
			"OAUTH_GENERIC_AUTH_URL": "https://auth.atlassian.com/authorize", "OAUTH_GENERIC_TOKEN_URL": "https://auth.atlassian.com/oauth/token",
			"OAUTH_GENERIC_USER_INFO_URL": "https://api.atlassian.com/me", "OAUTH_GENERIC_SCOPES": "read:me read:account",
			"OAUTH_GENERIC_USER_IDENTIFIER": "account_id"},
		token:      "auth.atlassian.com/oauth/token",
		answers:    map[string]answer{"api.atlassian.com/me": jsonAnswer(atlassianUserAnswer)},
		scope:      "read:me read:account",
		identifier: "112233aa-bb11-cc22-33dd-445566abcabc",
		metadata:   map[string]any{"provider": "atlassian", "subject": "112233aa-bb11-cc22-33dd-445566abcabc"},
	}, {
		// The same with comma-separated scopes, sent as given.
		name: "generic, comma-separated scopes", id: "strava",
		env: map[string]string{"OAUTH_GENERIC_CLIENT_ID": "cid", "OAUTH_GENERIC_CLIENT_SECRET": "csecret", "OAUTH_GENERIC_NAME": "strava",
			"OAUTH_GENERIC_AUTH_URL": "https://www.strava.com/oauth/authorize", "OAUTH_GENERIC_TOKEN_URL": "https://www.strava.com/oauth/token",
			"OAUTH_GENERIC_USER_INFO_URL": "https://www.strava.com/api/v3/athlete", "OAUTH_GENERIC_SCOPES": "read,activity:read",
			"OAUTH_GENERIC_USER_IDENTIFIER": "username"},
		token:      "www.strava.com/oauth/token",
		answers:    map[string]answer{"www.strava.com/api/v3/athlete": jsonAnswer(stravaUserAnswer)},
		scope:      "read,activity:read",
		identifier: "marianne_t",
		metadata:   map[string]any{"provider": "strava", "subject": "134815"},
	}}
}

// newChainlitApp configures env's providers on a new Auth whose provider
// calls go to w, and returns it with its log.
func newChainlitApp(t *testing.T, w *webFake, env map[string]string, tweak ...func(*chatauth.Provider)) (*chatauth.Auth, *testutil.LogBuffer) {
	t.Helper()
	return newChainlitAppConfig(t, w, env, chatauth.Config{}, tweak...)
}

// newChainlitAppConfig is newChainlitApp with cfg's other fields.
func newChainlitAppConfig(t *testing.T, w *webFake, env map[string]string, cfg chatauth.Config, tweak ...func(*chatauth.Provider)) (*chatauth.Auth, *testutil.LogBuffer) {
	t.Helper()
	logs := &testutil.LogBuffer{}
	cfg.Secret, cfg.BaseURL, cfg.OAuth.HTTPClient = testSecret, "https://chat.example.com", w.client()
	cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := chatauth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 {
		t.Fatalf("%d providers from %v", len(ps), env)
	}
	for _, f := range tweak {
		f(ps[0])
	}
	if err := a.AddProvider(context.Background(), ps[0]); err != nil {
		t.Fatal(err)
	}
	return a, logs
}

// serveCase records c's answers on w.
func (w *webFake) serveCase(c chainlitCase) {
	w.tokenEndpoint(c.token)
	if c.jwks != "" {
		w.jwksEndpoint(c.jwks)
	}
	for where, a := range c.answers {
		w.answer(where, a)
	}
	w.mu.Lock()
	w.idToken = c.idToken
	w.mu.Unlock()
}

// TestChainlitIdentities logs in through every provider Chainlit knows,
// configured from Chainlit's variables and answering what the provider's
// documentation records, and checks that the default user is the one
// Chainlit's oauth_providers.py makes of the same answer: a returning user
// keeps the identifier the data layer knows. Each login makes exactly one
// token request, with the credentials in the form, as Chainlit sends them.
func TestChainlitIdentities(t *testing.T) {
	for _, c := range chainlitCases() {
		t.Run(c.name, func(t *testing.T) {
			w := newWebFake(t)
			w.serveCase(c)
			a, logs := newChainlitApp(t, w, c.env)
			if !strings.Contains(logs.String(), `identity="chainlit: user data`) {
				t.Errorf("start-up log does not say the identity rule:\n%s", logs)
			}
			res := w.loginThrough(t, a, c.id)
			if res.login == nil {
				t.Fatalf("login failed (%s):\n%s", res.location, logs)
			}
			u := res.login.User
			if u.Identifier != c.identifier || u.DisplayName != "" {
				t.Errorf("identifier %q display_name %q, want %q and none", u.Identifier, u.DisplayName, c.identifier)
			}
			if got, want := mustJSON(t, u.Metadata), mustJSON(t, c.metadata); got != want {
				t.Errorf("metadata\n got %s\nwant %s", got, want)
			}
			for _, k := range c.rawKeys {
				if _, ok := res.login.RawUser[k]; !ok {
					t.Errorf("raw user data lacks %q, which Chainlit's callbacks read", k)
				}
			}
			if c.scope != "" && res.scope != c.scope {
				t.Errorf("scope %q, want %q", res.scope, c.scope)
			}
			reqs := w.tokenRequests()
			if len(reqs) != 1 {
				t.Fatalf("%d token requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.where != c.token || r.authorization != "" || r.form.Get("client_secret") != "csecret" ||
				r.form.Get("redirect_uri") != "https://chat.example.com/auth/oauth/"+c.id+"/callback" || r.form.Get("code_verifier") == "" {
				t.Errorf("token request at %s, Authorization %q, form %v", r.where, r.authorization, r.form)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestVerifiedIdentityOfChainlitProviders: the same answers under the
// collision-safe rule, the default of presets built in Go: a verified
// e-mail, else "provider:subject", so that an unverified or
// admin-chosen name never becomes someone else's identifier.
func TestVerifiedIdentityOfChainlitProviders(t *testing.T) {
	want := map[string]string{
		"github":                   "octocat@github.com", // verified primary e-mail from /user/emails
		"google":                   "ada@example.com",
		"azure-ad":                 "azure-ad:48d31887-5fad-4d73-a9f5-3c356e68a038",
		"azure-ad-hybrid":          "azure-ad-hybrid:48d31887-5fad-4d73-a9f5-3c356e68a038",
		"okta":                     "john.doe@example.com",
		"auth0":                    "auth0:248289761001",
		"descope":                  "ada@example.com",
		"aws-cognito":              "aws-cognito:248289761001",
		"gitlab":                   "admin@example.com",
		"keycloak named corp-sso":  "corp-sso:f:1a2b:ada",
		"generic, account_id only": "112233aa-bb11-cc22-33dd-445566abcabc", // the app named the field: it vouches for it
	}
	for _, c := range chainlitCases() {
		id, ok := want[c.name]
		if !ok {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			w := newWebFake(t)
			w.serveCase(c)
			a, logs := newChainlitApp(t, w, c.env, func(p *chatauth.Provider) { UseVerifiedIdentity(p) })
			if !strings.Contains(logs.String(), `identity="verified:`) {
				t.Errorf("start-up log does not say the identity rule:\n%s", logs)
			}
			res := w.loginThrough(t, a, c.id)
			if res.login == nil {
				t.Fatalf("login failed (%s):\n%s", res.location, logs)
			}
			md := res.login.User.Metadata
			if got := res.login.User.Identifier; got != id {
				t.Errorf("identifier %q, want %q", got, id)
			}
			if md["provider"] != c.id || md["subject"] != c.metadata["subject"] {
				t.Errorf("metadata provider %v subject %v, want %s %v", md["provider"], md["subject"], c.id, c.metadata["subject"])
			}
		})
	}
}

// TestGraphPhotoIsBestEffort: the Azure AD photo never holds a login up:
// a missing, non-image, oversized or hanging photo leaves the image out.
func TestGraphPhotoIsBestEffort(t *testing.T) {
	c := chainlitCases()[2]
	const photoAt = "graph.microsoft.com/v1.0/me/photos/48x48/$value"
	for _, tt := range []struct {
		name  string
		photo answer
		image any
	}{
		{"jpeg", answer{contentType: "image/jpeg", body: graphPhoto}, graphPhotoURL},
		{"png with parameters", answer{contentType: "image/png; charset=binary", body: "png"}, "data:image/png;base64,cG5n"},
		{"no photo", answer{status: 404, contentType: "application/json", body: `{"error":{"code":"ImageNotFound"}}`}, nil},
		{"not an image", answer{contentType: "text/html", body: "<html>"}, nil},
		{"empty", answer{contentType: "image/jpeg"}, nil},
		{"larger than 4 KiB", answer{contentType: "image/jpeg", body: strings.Repeat("x", maxPhotoBytes+1)}, nil},
		{"hangs", answer{block: true}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := newWebFake(t)
			w.serveCase(c)
			w.answer(photoAt, tt.photo)
			// The photo gets a quarter of what is left.
			a, logs := newChainlitAppConfig(t, w, c.env, chatauth.Config{OAuth: chatauth.OAuthConfig{Timeout: 4 * time.Second}})
			res := w.loginThrough(t, a, c.id)
			if res.login == nil {
				t.Fatalf("login failed (%s):\n%s", res.location, logs)
			}
			if got := res.login.User.Metadata["image"]; got != tt.image {
				t.Errorf("image %v, want %v", got, tt.image)
			}
		})
	}
}

// TestTokenEndpointAuthStyle: one token request per login. A preset sends
// the credentials in the form, once; a provider built by hand with no
// AuthStyle probes Basic, then the form, on its first login only.
func TestTokenEndpointAuthStyle(t *testing.T) {
	c := chainlitCases()[0] // GitHub
	t.Run("preset", func(t *testing.T) {
		w := newWebFake(t)
		w.serveCase(c)
		a, _ := newChainlitApp(t, w, c.env)
		for i := range 3 {
			if res := w.loginThrough(t, a, c.id); res.login == nil {
				t.Fatalf("login %d failed: %s", i, res.location)
			}
		}
		if n := len(w.tokenRequests()); n != 3 {
			t.Errorf("%d token requests for 3 logins", n)
		}
	})
	t.Run("detected once", func(t *testing.T) {
		w := newWebFake(t)
		w.serveCase(c)
		a, _ := newChainlitApp(t, w, c.env, func(p *chatauth.Provider) { p.AuthStyle = 0 })
		for i := range 3 {
			if res := w.loginThrough(t, a, c.id); res.login == nil {
				t.Fatalf("login %d failed: %s", i, res.location)
			}
		}
		var basic int
		for _, r := range w.tokenRequests() {
			if r.authorization != "" {
				basic++
			}
		}
		if n := len(w.tokenRequests()); n != 4 || basic != 1 {
			t.Errorf("%d token requests (%d with Basic) for 3 logins, want 4 (1): the style is probed again", n, basic)
		}
	})
}

// TestFromEnvSkipsPartlyConfigured: by default a partly
// configured provider stops start-up, naming the missing variables; with
// SkipPartlyConfigured it is skipped, as Chainlit does, with one warning
// naming them, and the complete ones are kept.
func TestFromEnvSkipsPartlyConfigured(t *testing.T) {
	env := map[string]string{
		"OAUTH_GITHUB_CLIENT_ID": "gid", "OAUTH_GITHUB_CLIENT_SECRET": "gsec",
		"OAUTH_AZURE_AD_CLIENT_ID": "aid", "OAUTH_AZURE_AD_CLIENT_SECRET": "asec", // no OAUTH_AZURE_AD_TENANT_ID
	}
	getenv := func(k string) string { return env[k] }
	for _, opts := range [][]EnvOption{nil, {nil}} {
		if _, err := FromEnv(getenv, opts...); err == nil || !strings.Contains(err.Error(), "OAUTH_AZURE_AD_TENANT_ID") {
			t.Fatalf("default (options %v): error %v, want one naming OAUTH_AZURE_AD_TENANT_ID", opts, err)
		}
	}
	var logs bytes.Buffer
	ps, err := FromEnv(getenv, SkipPartlyConfigured(slog.New(slog.NewTextHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 || ps[0].ID != "github" || ps[0].Identity != "chainlit: user data \"login\" as given" {
		t.Errorf("providers %+v, want github alone with Chainlit's identities", ps)
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "level=WARN") || !strings.Contains(lines[0], "provider=azure-ad") ||
		!strings.Contains(lines[0], "OAUTH_AZURE_AD_TENANT_ID") || strings.Contains(lines[0], "asec") {
		t.Errorf("log %q, want one warning naming the provider and the missing variable", logs.String())
	}
}

// TestGitHubEnterpriseFromEnv: OAUTH_GITHUB_AUTH_URL, _TOKEN_URL and
// _USER_INFO_URL move every call to a GitHub Enterprise server, /emails
// included.
func TestGitHubEnterpriseFromEnv(t *testing.T) {
	w := newWebFake(t)
	c := chainlitCase{
		token: "ghe.example.com/login/oauth/access_token",
		answers: map[string]answer{
			"ghe.example.com/api/v3/user":        jsonAnswer(githubUserAnswer),
			"ghe.example.com/api/v3/user/emails": jsonAnswer(githubEmailsAnswer),
		},
	}
	w.serveCase(c)
	a, logs := newChainlitApp(t, w, map[string]string{
		"OAUTH_GITHUB_CLIENT_ID": "cid", "OAUTH_GITHUB_CLIENT_SECRET": "csecret",
		"OAUTH_GITHUB_AUTH_URL":      "https://ghe.example.com/login/oauth/authorize",
		"OAUTH_GITHUB_TOKEN_URL":     "https://ghe.example.com/login/oauth/access_token",
		"OAUTH_GITHUB_USER_INFO_URL": "https://ghe.example.com/api/v3/user",
	})
	res := w.loginThrough(t, a, "github")
	if res.login == nil || res.login.User.Identifier != "octocat" {
		t.Fatalf("login %+v (%s):\n%s", res.login, res.location, logs)
	}
	if !strings.HasPrefix(res.authorize, "https://ghe.example.com/login/oauth/authorize?") {
		t.Errorf("authorize at %s", res.authorize)
	}
	emails, _ := res.login.RawUser["emails"].([]any)
	if len(emails) != 1 || w.getsOf("ghe.example.com/api/v3/user/emails") != 1 {
		t.Errorf("emails %v, fetched %d times from GitHub Enterprise", emails, w.getsOf("ghe.example.com/api/v3/user/emails"))
	}
	if n := w.getsOf("api.github.com/user"); n != 0 {
		t.Errorf("api.github.com asked %d times", n)
	}
}

// TestChainlitIdentityWithoutTheField: a user-info answer without the
// field Chainlit takes as identifier fails the login (userinfo_failed), as
// it fails in Chainlit, instead of making an empty identifier.
func TestChainlitIdentityWithoutTheField(t *testing.T) {
	c := chainlitCases()[0]
	w := newWebFake(t)
	w.serveCase(c)
	w.json("api.github.com/user", `{"id":1,"avatar_url":"https://a/1"}`)
	a, logs := newChainlitApp(t, w, c.env)
	res := w.loginThrough(t, a, c.id)
	if res.login != nil || !strings.HasSuffix(res.location, "/login?error=userinfo_failed") {
		t.Errorf("login without login field: hook called %v, ended on %s", res.login != nil, res.location)
	}
	if !strings.Contains(logs.String(), `no \"login\"`) {
		t.Errorf("log does not name the missing field:\n%s", logs)
	}
}
