package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chatauth/chatauth"
	"github.com/chatauth/chatauth/chatauthtest"
	"github.com/chatauth/chatauth/examples/proxy/authproxy"
)

// e2eDir holds the Node test that drives the demo with Chainlit's own web
// client, @chainlit/react-client (package.json, package-lock.json).
const e2eDir = "e2e"

// TestChainlitWebClient runs e2e/chainlit-client.test.mjs with `node
// --test` against the demo, at the root and under a root path: Chainlit's
// ChainlitAPI logs in with a password, a token minted here, and header
// login through the authenticating proxy of examples/proxy, reads the user
// and the auth config, and logs out, with a cookie jar as a browser has.
func TestChainlitWebClient(t *testing.T) {
	node := nodePath(t)
	ensureNodeModules(t)
	for _, root := range []string{"", "/chat"} {
		t.Run("root="+root+"/", func(t *testing.T) {
			began := time.Now()
			out, err := runNodeTest(t, node, chainlitClientEnv(t, root))
			if err != nil {
				t.Fatalf("node --test failed (%v):\n%s", err, out)
			}
			t.Logf("node --test passed in %s: %s", time.Since(began).Round(time.Millisecond), nodeSummary(out))
		})
	}
}

// chainlitClientEnv starts the demo under root, with header login on and
// an OpenID provider configured, and the proxy in front of it; it returns
// what the Node test needs to know, as CHATAUTH_E2E_* variables.
func chainlitClientEnv(t *testing.T, root string) []string {
	t.Helper()
	idp := chatauthtest.NewProvider(t)
	app := newTestApp(t, env(
		"CHAINLIT_AUTH_SECRET", testSecret,
		"CHATAUTH_DEMO_USERS", "alice:pw1",
		"CHATAUTH_HEADER_USER", "X-Forwarded-User",
		"CHATAUTH_TRUSTED_PROXIES", "127.0.0.1/32", // the proxy below
		"OAUTH_OIDC_NAME", "corp",
		"OAUTH_OIDC_ISSUER", idp.Issuer,
		"OAUTH_OIDC_CLIENT_ID", idp.ClientID,
		"OAUTH_OIDC_CLIENT_SECRET", idp.ClientSecret,
	), root)

	const proxyKey, proxyUser, proxyEmail = "e2e-proxy-key", "ada", "ada@example.com"
	h, err := authproxy.New(authproxy.Options{Upstream: app.URL, APIKey: proxyKey, User: proxyUser, Email: proxyEmail})
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(h)
	t.Cleanup(front.Close)

	tokenUser := chatauth.User{Identifier: "grace", DisplayName: "Grace Hopper", Metadata: map[string]any{"role": "admin"}}
	foreign, err := chatauth.New(chatauth.Config{Secret: []byte(strings.Repeat("x", 40))})
	if err != nil {
		t.Fatal(err)
	}
	return []string{
		"CHATAUTH_E2E_URL=" + app.URL + root,
		"CHATAUTH_E2E_PROXY_URL=" + front.URL + root,
		"CHATAUTH_E2E_PROXY_KEY=" + proxyKey,
		"CHATAUTH_E2E_PROXY_USER=" + proxyUser,
		"CHATAUTH_E2E_PROXY_EMAIL=" + proxyEmail,
		"CHATAUTH_E2E_USER=alice",
		"CHATAUTH_E2E_PASSWORD=pw1",
		"CHATAUTH_E2E_TOKEN=" + chatauthtest.BearerToken(t, app.s.auth, tokenUser),
		"CHATAUTH_E2E_TOKEN_USER=" + tokenUser.Identifier,
		"CHATAUTH_E2E_TOKEN_NAME=" + tokenUser.DisplayName,
		"CHATAUTH_E2E_FOREIGN_TOKEN=" + chatauthtest.BearerToken(t, foreign, tokenUser),
		"CHATAUTH_E2E_OAUTH_PROVIDER=corp",
		"CHATAUTH_E2E_OAUTH_AUTHORIZE_URL=" + idp.Issuer + chatauthtest.AuthorizePath,
	}
}

// runNodeTest runs the Node test file with extra environment, and returns
// its combined output.
func runNodeTest(t *testing.T, node string, extraEnv []string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=spec", "chainlit-client.test.mjs")
	cmd.Dir = e2eDir
	cmd.Env = append(os.Environ(), extraEnv...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// nodeSummary picks the counts out of node's spec reporter output.
func nodeSummary(out string) string {
	var parts []string
	for _, m := range regexp.MustCompile(`(?m)^ℹ (tests|pass|fail|skipped) (\d+)$`).FindAllStringSubmatch(out, -1) {
		parts = append(parts, m[1]+" "+m[2])
	}
	return strings.Join(parts, ", ")
}

// nodePath finds node; without it the test is skipped, except under
// CI=true, where it fails.
func nodePath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("node")
	if err == nil {
		return p
	}
	if inCI() {
		t.Fatal("node is not installed; .ci/run installs it (apt-get install nodejs npm)")
	}
	t.Skip("needs node (apt-get install nodejs npm): not found on PATH, skipping the Chainlit web client test")
	return ""
}

// ensureNodeModules runs `npm ci` in e2e when its packages are missing, so
// that the README's single test command works on a fresh clone. (.ci/run
// runs it beforehand.)
func ensureNodeModules(t *testing.T) {
	t.Helper()
	_, clientErr := os.Stat(filepath.Join(e2eDir, "node_modules", "@chainlit", "react-client", "package.json"))
	_, axeErr := os.Stat(filepath.Join(e2eDir, "node_modules", "axe-core", "axe.min.js"))
	if clientErr == nil && axeErr == nil {
		return
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		if inCI() {
			t.Fatal("npm is not installed; .ci/run installs it (apt-get install npm)")
		}
		t.Skip("needs npm (apt-get install npm): e2e/node_modules is missing and npm is not on PATH, skipping the Chainlit web client test")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
	cmd.Dir = e2eDir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("npm ci in %s: %v\n%s", e2eDir, err, out)
	}
	t.Logf("installed the Node test's packages with npm ci")
}
