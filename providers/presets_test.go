package providers

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/chatauth/chatauth"
	"github.com/chatauth/chatauth/internal/testutil"
)

// newTestAuth returns an Auth with a fixed secret and an OAuth hook that
// accepts the default user.
func newOAuthTestAuth(t *testing.T, cfg chatauth.Config) *chatauth.Auth {
	t.Helper()
	if cfg.Secret == nil {
		cfg.Secret = []byte(strings.Repeat("k", 32))
	}
	a, err := chatauth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a.OnOAuth(func(_ context.Context, l chatauth.OAuthLogin) (*chatauth.User, error) { return l.User, nil })
	return a
}

// TestPresetAuthorizeURLs checks, for every preset, where the browser is
// sent and with which parameters: PKCE always, a nonce for OpenID ones.
func TestPresetAuthorizeURLs(t *testing.T) {
	tests := []struct {
		p       *chatauth.Provider
		host    string
		path    string
		scope   string
		openID  bool
		extra   map[string]string
		mode    string
		respTyp string
	}{
		{p: GitHub("cid", "sec"), host: "github.com", path: "/login/oauth/authorize", scope: "user:email"},
		{p: Google("cid", "sec"), host: "accounts.google.com", path: "/o/oauth2/v2/auth", scope: "openid email profile", openID: true, extra: map[string]string{"access_type": "offline"}},
		{p: AzureAD(AzureADOptions{Tenant: "tid", ClientID: "cid", ClientSecret: "sec", SingleTenant: false}), host: "login.microsoftonline.com", path: "/common/oauth2/v2.0/authorize", scope: "https://graph.microsoft.com/User.Read offline_access"},
		{p: AzureAD(AzureADOptions{Tenant: "tid", ClientID: "cid", ClientSecret: "sec", SingleTenant: true}), host: "login.microsoftonline.com", path: "/tid/oauth2/v2.0/authorize", scope: "https://graph.microsoft.com/User.Read offline_access"},
		{p: AzureAD(AzureADOptions{Tenant: "tid", ClientID: "cid", ClientSecret: "sec", SingleTenant: false, Hybrid: true}), host: "login.microsoftonline.com", path: "/common/oauth2/v2.0/authorize", scope: "openid profile email offline_access https://graph.microsoft.com/User.Read", openID: true, mode: "form_post", respTyp: "code id_token"},
		{p: Okta(OktaOptions{Domain: "dev.okta.com", ClientID: "cid", ClientSecret: "sec", AuthorizationServer: "default"}), host: "dev.okta.com", path: "/oauth2/default/v1/authorize", scope: "openid profile email", openID: true},
		{p: Okta(OktaOptions{Domain: "dev.okta.com", ClientID: "cid", ClientSecret: "sec"}), host: "dev.okta.com", path: "/oauth2/v1/authorize", scope: "openid profile email", openID: true},
		{p: Auth0(Auth0Options{Domain: "t.auth0.com", ClientID: "cid", ClientSecret: "sec"}), host: "t.auth0.com", path: "/authorize", scope: "openid profile email", openID: true, extra: map[string]string{"audience": "https://t.auth0.com/userinfo"}},
		{p: Descope("cid", "sec"), host: "api.descope.com", path: "/oauth2/v1/authorize", scope: "openid profile email"},
		{p: Cognito(CognitoOptions{Domain: "x.auth.eu-west-1.amazoncognito.com", ClientID: "cid", ClientSecret: "sec"}), host: "x.auth.eu-west-1.amazoncognito.com", path: "/login", scope: "openid profile email"},
		{p: GitLab(GitLabOptions{Domain: "gitlab.com", ClientID: "cid", ClientSecret: "sec"}), host: "gitlab.com", path: "/oauth/authorize", scope: "openid profile email", openID: true},
		{p: Keycloak(KeycloakOptions{BaseURL: "https://kc.example.com", Realm: "main", ClientID: "cid", ClientSecret: "sec"}), host: "kc.example.com", path: "/realms/main/protocol/openid-connect/auth", scope: "profile email openid", openID: true},
		{p: Generic(GenericOptions{ID: "corp", ClientID: "cid", ClientSecret: "sec", AuthURL: "https://id.example.com/auth", TokenURL: "https://id.example.com/token", UserInfoURL: "https://id.example.com/me", Scopes: []string{"read"}}), host: "id.example.com", path: "/auth", scope: "read"},
	}
	for _, tt := range tests {
		t.Run(tt.p.ID+"_"+tt.path, func(t *testing.T) {
			a := newOAuthTestAuth(t, chatauth.Config{BaseURL: "https://chat.example.com", RootPath: "/app"})
			tt.p.Prompt = "select_account"
			if err := a.AddProvider(context.Background(), tt.p); err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			a.ServeHTTP(rec, httptest.NewRequest("GET", "/app/auth/oauth/"+tt.p.ID, nil))
			if rec.Code != http.StatusFound {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			u, err := url.Parse(rec.Header().Get("Location"))
			if err != nil {
				t.Fatal(err)
			}
			q := u.Query()
			if u.Host != tt.host || u.Path != tt.path {
				t.Errorf("authorize at %s%s, want %s%s", u.Host, u.Path, tt.host, tt.path)
			}
			want := map[string]string{
				"client_id":             "cid",
				"redirect_uri":          "https://chat.example.com/app/auth/oauth/" + tt.p.ID + "/callback",
				"scope":                 tt.scope,
				"code_challenge_method": "S256",
				"prompt":                "select_account",
				"response_type":         "code",
			}
			if tt.respTyp != "" {
				want["response_type"] = tt.respTyp
			}
			if tt.mode != "" {
				want["response_mode"] = tt.mode
			}
			for k, v := range tt.extra {
				want[k] = v
			}
			for k, v := range want {
				if got := q.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if len(q.Get("code_challenge")) != 43 {
				t.Errorf("code_challenge %q is not a S256 challenge", q.Get("code_challenge"))
			}
			if len(q.Get("state")) < 22 { // 128 bits in base64url
				t.Errorf("state %q has fewer than 128 bits", q.Get("state"))
			}
			if hasNonce := q.Get("nonce") != ""; hasNonce != tt.openID {
				t.Errorf("nonce present = %v, want %v", hasNonce, tt.openID)
			}
			if q.Get("client_secret") != "" || strings.Contains(u.String(), "sec") && strings.Contains(q.Get("client_secret"), "sec") {
				t.Error("client secret in the authorize URL")
			}
			if c := testutil.Cookie(rec.Result().Cookies(), "oauth_state"); c == nil || !c.HttpOnly || c.MaxAge != 180 || c.Path != "/app" || !c.Secure {
				t.Errorf("state cookie %+v", c)
			}
		})
	}
}

// TestVerifiedUserMapping maps recorded user-info bodies of each provider.
func TestVerifiedUserMapping(t *testing.T) {
	tests := []struct {
		name       string
		p          *chatauth.Provider
		body       string
		identifier string
		display    string
		image      string
		subject    string
		unverified bool
	}{
		{"github verified primary", GitHub("c", "s"),
			`{"login":"octocat","id":583231,"avatar_url":"https://avatars.githubusercontent.com/u/583231","name":"The Octocat","email":"octocat@github.com","email_verified":true}`,
			"octocat@github.com", "The Octocat", "https://avatars.githubusercontent.com/u/583231", "583231", false},
		{"github unverified", GitHub("c", "s"),
			`{"login":"octocat","id":583231,"name":null,"email":"octocat@github.com","email_verified":false}`,
			"github:583231", "octocat", "", "583231", true},
		{"google", Google("c", "s"),
			`{"sub":"110169484474386276334","email":"ada@gmail.com","email_verified":true,"name":"Ada L","picture":"https://lh3.googleusercontent.com/a/x"}`,
			"ada@gmail.com", "Ada L", "https://lh3.googleusercontent.com/a/x", "110169484474386276334", false},
		{"azure graph", AzureAD(AzureADOptions{Tenant: "t", ClientID: "c", ClientSecret: "s", SingleTenant: false}),
			`{"id":"87d349ed-44d7-43e1-9a83-5f2406dee5bd","userPrincipalName":"ada@contoso.com","displayName":"Ada Lovelace","mail":"ada@contoso.com"}`,
			"azure-ad:87d349ed-44d7-43e1-9a83-5f2406dee5bd", "Ada Lovelace", "", "87d349ed-44d7-43e1-9a83-5f2406dee5bd", false},
		{"okta string verified", Okta(OktaOptions{Domain: "o.okta.com", ClientID: "c", ClientSecret: "s", AuthorizationServer: "default"}),
			`{"sub":"00uid4BxXw6I6TV4m0g3","email":"ada@example.com","email_verified":"true","name":"Ada"}`,
			"ada@example.com", "Ada", "", "00uid4BxXw6I6TV4m0g3", false},
		{"keycloak unverified", Keycloak(KeycloakOptions{BaseURL: "https://kc", Realm: "r", ClientID: "c", ClientSecret: "s"}),
			`{"sub":"f:1","email":"ada@example.com","email_verified":false,"preferred_username":"ada"}`,
			"keycloak:f:1", "ada", "", "f:1", true},
		{"generic named claim", Generic(GenericOptions{ID: "corp", ClientID: "c", ClientSecret: "s", AuthURL: "a", TokenURL: "t", UserInfoURL: "u", UserIdentifier: "preferred_username"}),
			`{"sub":"42","preferred_username":"ada"}`, "ada", "ada", "", "42", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var raw map[string]any
			if err := json.Unmarshal([]byte(tt.body), &raw); err != nil {
				t.Fatal(err)
			}
			u, err := VerifiedUser(tt.p, raw)
			if err != nil {
				t.Fatal(err)
			}
			if u.Identifier != tt.identifier || u.DisplayName != tt.display {
				t.Errorf("user %q %q, want %q %q", u.Identifier, u.DisplayName, tt.identifier, tt.display)
			}
			md := u.Metadata
			if md["provider"] != tt.p.ID || md["subject"] != tt.subject {
				t.Errorf("metadata provider/subject = %v/%v", md["provider"], md["subject"])
			}
			if img, _ := md["image"].(string); img != tt.image {
				t.Errorf("image %q, want %q", img, tt.image)
			}
			if got := md["email_unverified"] == true; got != tt.unverified {
				t.Errorf("email_unverified = %v, want %v", got, tt.unverified)
			}
		})
	}
	if _, err := VerifiedUser(GitHub("c", "s"), map[string]any{"login": "x"}); err == nil {
		t.Error("user data without subject accepted")
	}
}

// TestGitHubFetchUser reads /user and /user/emails from a recorded GitHub.
func TestGitHubFetchUser(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /user", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer gho_x" {
			w.WriteHeader(401)
			return
		}
		w.Write([]byte(`{"login":"octocat","id":1,"avatar_url":"https://a/1","email":null}`))
	})
	mux.HandleFunc("GET /user/emails", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`[{"email":"old@x.com","primary":false,"verified":true},{"email":"octo@x.com","primary":true,"verified":true}]`))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	p := GitHub("c", "s")
	p.UserInfoURL = srv.URL + "/user"
	client := &http.Client{Transport: bearerTransport("gho_x")}
	raw, err := p.FetchUser(context.Background(), client, p)
	if err != nil {
		t.Fatal(err)
	}
	u, err := VerifiedUser(p, raw)
	if err != nil {
		t.Fatal(err)
	}
	if u.Identifier != "octo@x.com" || u.Metadata["subject"] != "1" {
		t.Errorf("user %+v", u)
	}
}

type bearerTransport string

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+string(b))
	return http.DefaultTransport.RoundTrip(r)
}

func TestFromEnv(t *testing.T) {
	env := map[string]string{
		"OAUTH_GITHUB_CLIENT_ID":     "gid",
		"OAUTH_GITHUB_CLIENT_SECRET": "gsec",
		"OAUTH_PROMPT":               "login",
		"OAUTH_GITHUB_PROMPT":        "consent",
		"OAUTH_KEYCLOAK_CLIENT_ID":   "k", "OAUTH_KEYCLOAK_CLIENT_SECRET": "ks",
		"OAUTH_KEYCLOAK_REALM": "r", "OAUTH_KEYCLOAK_BASE_URL": "https://kc", "OAUTH_KEYCLOAK_NAME": "corp",
		"OAUTH_OIDC_ISSUER": "https://id.example.com", "OAUTH_OIDC_CLIENT_ID": "o", "OAUTH_OIDC_CLIENT_SECRET": "os",
	}
	ps, err := FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*chatauth.Provider{}
	for _, p := range ps {
		got[p.ID] = p
	}
	if len(got) != 3 || got["github"] == nil || got["corp"] == nil || got["oidc"] == nil {
		t.Fatalf("providers %v", got)
	}
	if got["github"].Prompt != "consent" || got["corp"].Prompt != "login" {
		t.Errorf("prompts %q %q", got["github"].Prompt, got["corp"].Prompt)
	}
	if s := strings.Join(got["oidc"].Scopes, " "); s != "openid profile email" {
		t.Errorf("oidc scopes %q", s)
	}

	half := map[string]string{"OAUTH_OKTA_CLIENT_ID": "x", "OAUTH_GENERIC_CLIENT_ID": "y", "OAUTH_GENERIC_AUTH_URL": "z"}
	_, err = FromEnv(func(k string) string { return half[k] })
	if err == nil {
		t.Fatal("half-configured providers accepted")
	}
	for _, want := range []string{"okta", "OAUTH_OKTA_CLIENT_SECRET", "OAUTH_OKTA_DOMAIN", "generic", "OAUTH_GENERIC_TOKEN_URL", "OAUTH_GENERIC_SCOPES"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}

func TestEveryPresetNamesItself(t *testing.T) {
	for _, p := range everyPreset() {
		if p.Preset == "" || p.Preset != p.ID {
			t.Errorf("preset %q built provider %q: Preset should be its default id", p.Preset, p.ID)
		}
		if p.MapUser == nil || p.Identity == "" {
			t.Errorf("preset %q sets no MapUser or Identity", p.Preset)
		}
	}
}

// everyPreset is one provider of each preset, with zero options.
func everyPreset() []*chatauth.Provider {
	return []*chatauth.Provider{
		GitHub("", ""), Google("", ""), AzureAD(AzureADOptions{}), AzureAD(AzureADOptions{Tenant: "t", SingleTenant: true, Hybrid: true}),
		Okta(OktaOptions{Domain: "o.example"}), Auth0(Auth0Options{Domain: "a.example"}), Descope("", ""),
		Cognito(CognitoOptions{Domain: "c.example"}), GitLab(GitLabOptions{Domain: "g.example"}),
		Keycloak(KeycloakOptions{BaseURL: "https://k.example", Realm: "r"}),
		Generic(GenericOptions{}), OIDC(OIDCOptions{Issuer: "https://o.example"}),
	}
}
