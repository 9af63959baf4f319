package chatauth

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestNewNamesEveryProblemAtOnce(t *testing.T) {
	_, err := New(Config{
		Cookie: CookieConfig{
			SameSite: http.SameSite(99),
			Name:     "bad name",
		},
		RootPath: "/chat/../admin",
		Proxy: ProxyConfig{
			Trusted: []string{"10.0.0.0/33", "127.0.0.1"},
		},
		BaseURL: "ftp://files.example.com",
		Origins: OriginsConfig{
			Allowed: []string{"not an origin"},
		},
		PreviousSecrets: [][]byte{[]byte("")},
	})
	if err == nil {
		t.Fatal("New accepted a bad configuration")
	}
	msg := err.Error()
	for _, want := range []string{
		"Secret is missing", "CHAINLIT_AUTH_SECRET", "create-secret",
		`Cookie.SameSite 99`, `RootPath "/chat/../admin"`, `"10.0.0.0/33"`,
		`BaseURL "ftp://files.example.com"`, `Cookie.Name "bad name"`,
		`Origins.Allowed: "not an origin"`, "PreviousSecrets[0]",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, `"127.0.0.1"`) {
		t.Errorf("error names a good proxy:\n%s", msg)
	}
}

func TestNewRefusesBadValues(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"short secret", Config{Secret: []byte("0123456789")}, "Secret is 10 bytes, needs at least 32 (make one with: go run github.com/chatauth/chatauth/cmd/chatauth@latest create-secret); " +
			"a shorter secret of a Chainlit deployment can keep verifying its sessions as a previous secret (CHATAUTH_PREVIOUS_SECRETS)"},
		{"empty previous secret", Config{Secret: testSecret, PreviousSecrets: [][]byte{testSecret, {}}}, "PreviousSecrets[1] is empty"},
		{"cookie path outside the root path", Config{Secret: testSecret, RootPath: "/chat", Cookie: CookieConfig{Path: "/other"}}, `Cookie.Path "/other" does not contain the root path "/chat"`},
		{"cookie path a prefix of a segment", Config{Secret: testSecret, RootPath: "/chat", Cookie: CookieConfig{Path: "/ch"}}, `Cookie.Path "/ch"`},
		{"cookie path with ..", Config{Secret: testSecret, Cookie: CookieConfig{Path: "/a/../b"}}, `Cookie.Path "/a/../b" is not a path`},
		{"cookie path of a __Host- cookie", Config{Secret: testSecret, Cookie: CookieConfig{Name: "__Host-s", Path: "/chat"}, RootPath: "/chat"}, "__Host- cookie must have Path=/"},
		{"theme", Config{Secret: testSecret, UI: UISettings{DefaultTheme: "blue"}}, `UI.DefaultTheme "blue" must be dark or light`},
		{"SameSite", Config{Secret: testSecret, Cookie: CookieConfig{SameSite: http.SameSite(42)}}, "Cookie.SameSite 42 is not an http.SameSite mode"},
		{"root path with ..", Config{Secret: testSecret, RootPath: "/a/.."}, "RootPath"},
		{"root path with space", Config{Secret: testSecret, RootPath: "/my chat"}, "RootPath"},
		{"root path with braces", Config{Secret: testSecret, RootPath: "/{x}"}, "RootPath"},
		{"root path with double slash", Config{Secret: testSecret, RootPath: "/a//b"}, "RootPath"},
		{"CIDR", Config{Secret: testSecret, Proxy: ProxyConfig{Trusted: []string{"10.0.0/8"}}}, `Proxy.Trusted: "10.0.0/8"`},
		{"BaseURL without host", Config{Secret: testSecret, BaseURL: "https://"}, "BaseURL"},
		{"session timeout", Config{Secret: testSecret, Session: SessionConfig{Timeout: time.Millisecond}}, "Session.Timeout 1ms is shorter than 1s"},
		{"state cookie lifetime", Config{Secret: testSecret, OAuth: OAuthConfig{StateCookieLifetime: -time.Second}}, "OAuth.StateCookieLifetime -1s is negative"},
		{"negative limits", Config{Secret: testSecret, Login: LoginConfig{Limits: PasswordLimits{PerUsername: -1}}}, "Login.Limits.PerUsername -1 is negative"},
		{"state dir beside a store", Config{Secret: testSecret, Stores: StoresConfig{StateDir: "unused", Tokens: newMemoryTokenStore(0, 0)}}, "Stores.StateDir is set beside Stores.Revocations, Throttle or Tokens"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestNewDefaults(t *testing.T) {
	a, err := New(Config{Secret: testSecret, Cookie: CookieConfig{SameSite: http.SameSiteStrictMode}, RootPath: "chat/", BaseURL: "https://chat.example.com/some/path/?q=1#top"})
	if err != nil {
		t.Fatal(err)
	}
	c := a.cfg
	for _, tt := range []struct {
		name      string
		got, want any
	}{
		{"CookieName", c.CookieName, "access_token"},
		{"SameSite", c.SameSite, "strict"},
		{"RootPath", c.RootPath, "/chat"},
		{"BaseURL keeps its path", c.BaseURL, "https://chat.example.com/some/path"},
		{"SessionTimeout", c.SessionTimeout, 15 * 24 * time.Hour},
		{"StateCookieLifetime", c.StateCookieLifetime, 180 * time.Second},
		{"PerUsername", c.PasswordLimits.PerUsername, 10},
		{"PerAddress", c.PasswordLimits.PerAddress, 100},
		{"Window", c.PasswordLimits.Window, 15 * time.Minute},
	} {
		if tt.got != tt.want {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	if c.Revocations == nil || c.Throttle == nil || c.Tokens == nil || c.Logger == nil {
		t.Error("stores or logger not defaulted")
	}
	if a.RootPath() != "/chat" || a.CookieName() != "access_token" {
		t.Errorf("RootPath %q, CookieName %q", a.RootPath(), a.CookieName())
	}
}

func TestCleanRootPath(t *testing.T) {
	for in, want := range map[string]string{
		"": "", "/": "", "//": "", "chat": "/chat", "/chat/": "/chat", "/a/b": "/a/b", "/a-b_c.d~e": "/a-b_c.d~e",
	} {
		got, err := cleanRootPath(in)
		if err != nil || got != want {
			t.Errorf("cleanRootPath(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"/a/./b", "/..", "/a?b", "/a#b", "/a%2fb", `/a\b`, "/a\tb"} {
		if got, err := cleanRootPath(in); err == nil {
			t.Errorf("cleanRootPath(%q) = %q, want an error", in, got)
		}
	}
}

func TestConfigFromEnv(t *testing.T) {
	stateDir := t.TempDir()
	env := map[string]string{
		"CHAINLIT_AUTH_SECRET":           string(testSecret),
		"CHATAUTH_PREVIOUS_SECRETS":      "old-secret-0123456789abcdef0123456789, older-secret-0123456789abcdef01234567",
		"CHAINLIT_URL":                   "https://chat.example.com",
		"CHAINLIT_ROOT_PATH":             "/chat",
		"CHAINLIT_AUTH_COOKIE_NAME":      "my_token",
		"CHAINLIT_COOKIE_SAMESITE":       "strict",
		"CHAINLIT_STATE_COOKIE_LIFETIME": "300",
		"CHAINLIT_USER_SESSION_TIMEOUT":  "3600",
		"CHAINLIT_CUSTOM_AUTH":           "true",
		"CHATAUTH_TRUSTED_PROXIES":       "10.0.0.0/8, 127.0.0.1",
		"CHATAUTH_ALLOWED_ORIGINS":       "https://app.example.com,https://admin.example.com",
		"CHATAUTH_STATE_DIR":             stateDir,
	}
	cfg, err := ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name      string
		got, want any
	}{
		{"Secret", string(cfg.Secret), string(testSecret)},
		{"PreviousSecrets", len(cfg.PreviousSecrets), 2},
		{"PreviousSecrets[1]", string(cfg.PreviousSecrets[1]), "older-secret-0123456789abcdef01234567"},
		{"BaseURL", cfg.BaseURL, "https://chat.example.com"},
		{"RootPath", cfg.RootPath, "/chat"},
		{"CookieName", cfg.Cookie.Name, "my_token"},
		{"SameSite", cfg.Cookie.SameSite, http.SameSiteStrictMode},
		{"StateCookieLifetime", cfg.OAuth.StateCookieLifetime, 300 * time.Second},
		{"SessionTimeout", cfg.Session.Timeout, time.Hour},
		{"RequireLogin", cfg.RequireLogin, true},
		{"TrustedProxies", strings.Join(cfg.Proxy.Trusted, "|"), "10.0.0.0/8|127.0.0.1"},
		{"AllowedOrigins", strings.Join(cfg.Origins.Allowed, "|"), "https://app.example.com|https://admin.example.com"},
		{"StateDir", cfg.Stores.StateDir, stateDir},
	} {
		if tt.got != tt.want {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatalf("New(ConfigFromEnv) = %v", err)
	}
	if err := a.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func TestConfigFromEnvEmpty(t *testing.T) {
	cfg, err := ConfigFromEnv(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Secret != nil || cfg.RequireLogin || cfg.Proxy.Trusted != nil {
		t.Errorf("empty environment gave %+v", cfg)
	}
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "create-secret") {
		t.Errorf("New without secret = %v, want the create-secret hint", err)
	}
}

func TestConfigFromEnvBadNumbers(t *testing.T) {
	env := map[string]string{
		"CHAINLIT_USER_SESSION_TIMEOUT":  "15d",
		"CHAINLIT_STATE_COOKIE_LIFETIME": "-1",
	}
	_, err := ConfigFromEnv(func(k string) string { return env[k] })
	if err == nil {
		t.Fatal("bad numbers accepted")
	}
	for _, want := range []string{"CHAINLIT_USER_SESSION_TIMEOUT", "CHAINLIT_STATE_COOKIE_LIFETIME"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %s: %v", want, err)
		}
	}
}

func TestConfigFromEnvCustomAuthFalse(t *testing.T) {
	cfg, _ := ConfigFromEnv(func(k string) string {
		if k == "CHAINLIT_CUSTOM_AUTH" {
			return "false"
		}
		return ""
	})
	if cfg.RequireLogin {
		t.Error("CHAINLIT_CUSTOM_AUTH=false turned RequireLogin on")
	}
}

func TestNewFromEnv(t *testing.T) {
	t.Setenv("CHAINLIT_AUTH_SECRET", string(testSecret))
	t.Setenv("CHAINLIT_ROOT_PATH", "/env")
	a, err := NewFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if a.RootPath() != "/env" {
		t.Errorf("RootPath = %q", a.RootPath())
	}
}

func TestForwardedAllowIPsFromEnv(t *testing.T) {
	for _, tt := range []struct {
		value string
		want  []string
		err   string
	}{
		{"", nil, ""},
		{"10.0.0.1, 172.16.0.0/12", []string{"10.0.0.1", "172.16.0.0/12"}, ""},
		{"*", []string{"*"}, ""},
		{"not-an-ip", []string{"not-an-ip"}, `ForwardedAllowIPs: "not-an-ip" is not a CIDR, an address or *`},
	} {
		cfg, err := ConfigFromEnv(func(k string) string {
			return map[string]string{"FORWARDED_ALLOW_IPS": tt.value, "CHAINLIT_AUTH_SECRET": string(testSecret)}[k]
		})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(cfg.Proxy.ForwardedAllowIPs, tt.want) {
			t.Errorf("FORWARDED_ALLOW_IPS=%q: ForwardedAllowIPs %q, want %q", tt.value, cfg.Proxy.ForwardedAllowIPs, tt.want)
		}
		_, err = New(cfg)
		if (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
			t.Errorf("FORWARDED_ALLOW_IPS=%q: New error %v, want %q", tt.value, err, tt.err)
		}
	}
}

// TestNewRefusesCookieBudgetsThatDisagree: a MaxCookieChunks whose cookies
// hold a longer token than MaxTokenBytes reads back is refused, naming
// both values.
func TestNewRefusesCookieBudgetsThatDisagree(t *testing.T) {
	for _, tt := range []struct {
		chunks int
		want   string // "" for accepted
	}{
		{0, ""},
		{1, ""},
		{5, ""},
		{6, "Cookie.MaxChunks 6 lets a session token grow to 18000 bytes (6 cookies of 3000), more than MaxTokenBytes (16384) reads back: at most 5"},
		{8, "Cookie.MaxChunks 8"},
		{32, "Cookie.MaxChunks 32"},
		{-1, "Cookie.MaxChunks -1 is negative"},
	} {
		_, err := New(Config{Secret: testSecret, Cookie: CookieConfig{MaxChunks: tt.chunks}})
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("MaxCookieChunks %d: %v", tt.chunks, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "MaxTokenBytes") && tt.chunks > 0):
			t.Errorf("MaxCookieChunks %d: error %v, want one saying %q", tt.chunks, err, tt.want)
		}
	}
}

func TestCanonicalOrigin(t *testing.T) {
	for in, want := range map[string]string{
		"https://host.example":        "https://host.example",
		"https://host.example/":       "https://host.example",
		"HTTPS://Host.Example":        "https://host.example",
		"https://host.example:443":    "https://host.example",
		"http://host.example:80/":     "http://host.example",
		"https://host.example:8443":   "https://host.example:8443",
		"http://host.example:443":     "http://host.example:443",
		"http://[::1]:8080":           "http://[::1]:8080",
		"chrome-extension://abcdefgh": "chrome-extension://abcdefgh",
		"":                            "",
		"host.example":                "",
		"https://host.example/app":    "",
		"https://host.example?x=1":    "",
		"https://host.example/#top":   "",
		"https://user@host.example":   "",
		"https://*.host.example":      "",
		"*":                           "",
		"https://":                    "",
		"mailto:ada@host.example":     "",
	} {
		got, err := canonicalOrigin(in)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("canonicalOrigin(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// TestNewNamesEachBadOrigin: every bad origin of both lists is named, as
// given.
func TestNewNamesEachBadOrigin(t *testing.T) {
	_, err := New(Config{
		Secret: testSecret,
		Origins: OriginsConfig{
			Allowed: []string{"https://ok.example", "https://App.Example/path"},
			Embed:   []string{"https://*.host.example", "HTTPS://Host.Example/", "host.example"},
		},
	})
	if err == nil {
		t.Fatal("bad origins accepted")
	}
	for _, want := range []string{`Origins.Allowed: "https://App.Example/path"`, `Origins.Embed: "https://*.host.example"`, `Origins.Embed: "host.example"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "Host.Example/\"") || strings.Contains(err.Error(), "ok.example") {
		t.Errorf("error names a good origin:\n%v", err)
	}
}

// TestOneRuleForZeroAndNegative: every number and duration of every part
// takes its default at zero and is refused, by the field's name, when
// negative; Off is accepted where documented.
func TestOneRuleForZeroAndNegative(t *testing.T) {
	fields := []struct {
		name string
		set  func(c *Config, v int)
		off  bool
	}{
		{"Cookie.MaxChunks", func(c *Config, v int) { c.Cookie.MaxChunks = v }, false},
		{"Session.Timeout", func(c *Config, v int) { c.Session.Timeout = time.Duration(v) }, false},
		{"Session.IdleTimeout", func(c *Config, v int) { c.Session.IdleTimeout = time.Duration(v) }, false},
		{"Session.CheckInterval", func(c *Config, v int) { c.Session.CheckInterval = time.Duration(v) }, false},
		{"Session.TokenCacheSize", func(c *Config, v int) { c.Session.TokenCacheSize = v }, true},
		{"Session.TokenCacheBytes", func(c *Config, v int) { c.Session.TokenCacheBytes = v }, false},
		{"Login.Limits.PerUsername", func(c *Config, v int) { c.Login.Limits.PerUsername = v }, false},
		{"Login.Limits.PerAddress", func(c *Config, v int) { c.Login.Limits.PerAddress = v }, false},
		{"Login.Limits.Window", func(c *Config, v int) { c.Login.Limits.Window = time.Duration(v) }, false},
		{"Login.Limits.ChecksPerAddress", func(c *Config, v int) { c.Login.Limits.ChecksPerAddress = v }, false},
		{"Login.PasswordConcurrency", func(c *Config, v int) { c.Login.PasswordConcurrency = v }, false},
		{"Login.HeaderConcurrency", func(c *Config, v int) { c.Login.HeaderConcurrency = v }, false},
		{"OAuth.Timeout", func(c *Config, v int) { c.OAuth.Timeout = time.Duration(v) }, false},
		{"OAuth.StateCookieLifetime", func(c *Config, v int) { c.OAuth.StateCookieLifetime = time.Duration(v) }, false},
		{"Stores.MaxRevocations", func(c *Config, v int) { c.Stores.MaxRevocations = v }, false},
		{"Stores.MaxThrottleKeys", func(c *Config, v int) { c.Stores.MaxThrottleKeys = v }, false},
		{"Stores.MaxProviderTokens", func(c *Config, v int) { c.Stores.MaxProviderTokens = v }, false},
		{"Stores.MaxProviderTokenBytes", func(c *Config, v int) { c.Stores.MaxProviderTokenBytes = v }, false},
		{"BodyReadTimeout", func(c *Config, v int) { c.BodyReadTimeout = time.Duration(v) }, true},
	}
	for _, f := range fields {
		t.Run(f.name, func(t *testing.T) {
			c := Config{Secret: testSecret}
			f.set(&c, 0)
			if _, _, err := c.resolve(); err != nil {
				t.Errorf("zero refused: %v", err)
			}
			c = Config{Secret: testSecret}
			f.set(&c, -2)
			if _, _, err := c.resolve(); err == nil || !strings.Contains(err.Error(), f.name+" ") {
				t.Errorf("-2: error %v, want one naming %s", err, f.name)
			}
			c = Config{Secret: testSecret}
			f.set(&c, Off)
			_, _, err := c.resolve()
			if f.off != (err == nil) {
				t.Errorf("Off: error %v, accepted should be %v", err, f.off)
			}
		})
	}
}

// TestStoreSizesReachTheMemoryStores: Config.Stores sizes the stores New
// makes.
func TestStoreSizesReachTheMemoryStores(t *testing.T) {
	a, err := New(Config{Secret: testSecret, Stores: StoresConfig{MaxRevocations: 64, MaxThrottleKeys: 32, MaxProviderTokens: 16, MaxProviderTokenBytes: 4096}})
	if err != nil {
		t.Fatal(err)
	}
	if s := a.cfg.Revocations.(*memoryRevocationStore); s.max != 64 {
		t.Errorf("revocations bound %d, want 64", s.max)
	}
	if th := a.cfg.Throttle.(*memoryThrottle); th.max != 32 {
		t.Errorf("throttle bound %d, want 32", th.max)
	}
	if ts := a.cfg.Tokens.(*memoryTokenStore); ts.maxTokens != 16 || ts.maxBytes != 4096 {
		t.Errorf("token store bounds %d, %d; want 16, 4096", ts.maxTokens, ts.maxBytes)
	}
}

// TestOneCrossOriginCheck: the app's own origin, Origins.Allowed and
// Origins.Embed all pass the one cross-origin check; others do not.
func TestOneCrossOriginCheck(t *testing.T) {
	a, err := New(Config{Secret: testSecret, BaseURL: "https://Chat.Example:443/app",
		Origins: OriginsConfig{Allowed: []string{"https://front.example"}, Embed: []string{"https://host.example"}}})
	if err != nil {
		t.Fatal(err)
	}
	for origin, ok := range map[string]bool{
		"https://chat.example": true, "https://front.example": true, "https://host.example": true, "https://evil.example": false,
	} {
		r := httptest.NewRequest(http.MethodPost, "http://internal:8000/logout", nil)
		r.Header.Set("Origin", origin)
		r.Header.Set("Sec-Fetch-Site", "cross-site")
		if got := a.origins.Check(r) == nil; got != ok {
			t.Errorf("Origin %s allowed = %v, want %v", origin, got, ok)
		}
	}
}

// TestConfigFromEnvSameSite: CHAINLIT_COOKIE_SAMESITE's words become
// http.SameSite modes, in any case; another word is named.
func TestConfigFromEnvSameSite(t *testing.T) {
	for v, want := range map[string]http.SameSite{"": 0, "lax": http.SameSiteLaxMode, "STRICT": http.SameSiteStrictMode, "None": http.SameSiteNoneMode} {
		c, err := ConfigFromEnv(func(k string) string {
			if k == "CHAINLIT_COOKIE_SAMESITE" {
				return v
			}
			return ""
		})
		if err != nil || c.Cookie.SameSite != want {
			t.Errorf("%q: %v, %v; want %v", v, c.Cookie.SameSite, err, want)
		}
	}
	_, err := ConfigFromEnv(func(k string) string {
		if k == "CHAINLIT_COOKIE_SAMESITE" {
			return "sideways"
		}
		return ""
	})
	if err == nil || !strings.Contains(err.Error(), `CHAINLIT_COOKIE_SAMESITE="sideways"`) {
		t.Errorf("sideways: %v", err)
	}
}
