package providers

import (
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// TestIssuerFromDiscovery: setups that are right at the provider log in,
// though the provider signs with another issuer than the URL it is reached
// at: the issuer is taken from its discovery document (read once, then
// cached), and Google's documented second spelling is accepted. An issuer
// that neither the configuration nor the discovery names is still refused.
func TestIssuerFromDiscovery(t *testing.T) {
	const entraGUID = "9188040d-6c67-4c5b-b112-36a304b66dad"
	tests := []struct {
		name      string
		c         chainlitCase
		discovery string // host + path of the discovery document
		issuer    string // the issuer it names
		issParam  string // the iss parameter of the callback
		wantFail  bool
	}{{
		name: "entra tenant given as a domain",
		c: chainlitCase{
			id: "azure-ad-hybrid",
			env: map[string]string{"OAUTH_AZURE_AD_HYBRID_CLIENT_ID": "cid", "OAUTH_AZURE_AD_HYBRID_CLIENT_SECRET": "csecret",
				"OAUTH_AZURE_AD_HYBRID_TENANT_ID": "contoso.onmicrosoft.com", "OAUTH_AZURE_AD_HYBRID_ENABLE_SINGLE_TENANT": "true"},
			token:   "login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token",
			jwks:    "login.microsoftonline.com/contoso.onmicrosoft.com/discovery/v2.0/keys",
			answers: map[string]answer{"graph.microsoft.com/v1.0/me": jsonAnswer(graphUserAnswer)},
			idToken: jwt.MapClaims{"iss": "https://login.microsoftonline.com/" + entraGUID + "/v2.0", "tid": entraGUID, "sub": "pairwise-1"},
		},
		discovery: "login.microsoftonline.com/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration",
		issuer:    "https://login.microsoftonline.com/" + entraGUID + "/v2.0",
	}, {
		name: "keycloak behind another hostname",
		c: chainlitCase{
			id: "keycloak",
			env: map[string]string{"OAUTH_KEYCLOAK_CLIENT_ID": "cid", "OAUTH_KEYCLOAK_CLIENT_SECRET": "csecret", "OAUTH_KEYCLOAK_REALM": "main",
				"OAUTH_KEYCLOAK_BASE_URL": "http://keycloak:8080"},
			token:   "keycloak:8080/realms/main/protocol/openid-connect/token",
			jwks:    "keycloak:8080/realms/main/protocol/openid-connect/certs",
			answers: map[string]answer{"keycloak:8080/realms/main/protocol/openid-connect/userinfo": jsonAnswer(keycloakUserAnswer)},
			idToken: jwt.MapClaims{"iss": "https://sso.example.com/realms/main", "sub": "f:1a2b:ada"},
		},
		discovery: "keycloak:8080/realms/main/.well-known/openid-configuration",
		issuer:    "https://sso.example.com/realms/main",
		issParam:  "https://sso.example.com/realms/main", // Keycloak sends RFC 9207's iss
	}, {
		name: "okta custom domain signing as the org",
		c: chainlitCase{
			id:      "okta",
			env:     map[string]string{"OAUTH_OKTA_CLIENT_ID": "cid", "OAUTH_OKTA_CLIENT_SECRET": "csecret", "OAUTH_OKTA_DOMAIN": "login.example.com"},
			token:   "login.example.com/oauth2/default/v1/token",
			jwks:    "login.example.com/oauth2/default/v1/keys",
			answers: map[string]answer{"login.example.com/oauth2/default/v1/userinfo": jsonAnswer(oktaUserAnswer)},
			idToken: jwt.MapClaims{"iss": "https://example.okta.com/oauth2/default", "sub": "00uid4BxXw6I6TV4m0g3"},
		},
		discovery: "login.example.com/oauth2/default/.well-known/openid-configuration",
		issuer:    "https://example.okta.com/oauth2/default",
	}, {
		name: "google without the scheme",
		c: chainlitCase{
			id:      "google",
			env:     map[string]string{"OAUTH_GOOGLE_CLIENT_ID": "cid", "OAUTH_GOOGLE_CLIENT_SECRET": "csecret"},
			token:   "oauth2.googleapis.com/token",
			jwks:    "www.googleapis.com/oauth2/v3/certs",
			answers: map[string]answer{"www.googleapis.com/userinfo/v2/me": jsonAnswer(googleUserAnswer)},
			idToken: jwt.MapClaims{"iss": "accounts.google.com", "sub": "110248495921238986420"},
		},
	}, {
		name: "keycloak, an issuer discovery does not name",
		c: chainlitCase{
			id: "keycloak",
			env: map[string]string{"OAUTH_KEYCLOAK_CLIENT_ID": "cid", "OAUTH_KEYCLOAK_CLIENT_SECRET": "csecret", "OAUTH_KEYCLOAK_REALM": "main",
				"OAUTH_KEYCLOAK_BASE_URL": "http://keycloak:8080"},
			token:   "keycloak:8080/realms/main/protocol/openid-connect/token",
			jwks:    "keycloak:8080/realms/main/protocol/openid-connect/certs",
			answers: map[string]answer{"keycloak:8080/realms/main/protocol/openid-connect/userinfo": jsonAnswer(keycloakUserAnswer)},
			idToken: jwt.MapClaims{"iss": "https://evil.example/realms/main", "sub": "f:1a2b:ada"},
		},
		discovery: "keycloak:8080/realms/main/.well-known/openid-configuration",
		issuer:    "https://sso.example.com/realms/main",
		wantFail:  true,
	}, {
		name: "google, another issuer",
		c: chainlitCase{
			id:      "google",
			env:     map[string]string{"OAUTH_GOOGLE_CLIENT_ID": "cid", "OAUTH_GOOGLE_CLIENT_SECRET": "csecret"},
			token:   "oauth2.googleapis.com/token",
			jwks:    "www.googleapis.com/oauth2/v3/certs",
			answers: map[string]answer{"www.googleapis.com/userinfo/v2/me": jsonAnswer(googleUserAnswer)},
			idToken: jwt.MapClaims{"iss": "https://accounts.google.com.evil.example", "sub": "110248495921238986420"},
		},
		wantFail: true,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWebFake(t)
			w.serveCase(tt.c)
			w.issParam = tt.issParam
			if tt.discovery != "" {
				w.json(tt.discovery, `{"issuer":"`+tt.issuer+`","jwks_uri":"https://elsewhere.example/keys"}`)
			}
			a, logs := newChainlitApp(t, w, tt.c.env)
			if n := w.getsOf(tt.discovery); n != 0 {
				t.Errorf("discovery read %d times at start-up: a Chainlit .env must start without the network", n)
			}
			for i := range 2 {
				res := w.loginThrough(t, a, tt.c.id)
				if tt.wantFail {
					if res.login != nil || !strings.HasSuffix(res.location, "/login?error=invalid_id_token") {
						t.Fatalf("login %d with iss %v: hook called %v, ended on %s", i, tt.c.idToken["iss"], res.login != nil, res.location)
					}
					continue
				}
				if res.login == nil || !res.login.IDTokenVerified {
					t.Fatalf("login %d failed (%s):\n%s", i, res.location, logs)
				}
			}
			if tt.discovery != "" && w.getsOf(tt.discovery) != 1 {
				t.Errorf("discovery read %d times for two logins, want once", w.getsOf(tt.discovery))
			}
			if tt.wantFail && !strings.Contains(logs.String(), "different provider") {
				t.Errorf("log does not explain the refusal:\n%s", logs)
			}
		})
	}
}
