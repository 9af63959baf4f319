package loginpage_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/chatauth/chatauth"
	"github.com/chatauth/chatauth/loginpage"
)

// The sign-in page of an app with password login, walked through as a
// browser without JavaScript does: the chat sends it to the page, the
// page's form signs it in, and it lands back on the chat.
func Example() {
	a, err := chatauth.New(chatauth.Config{Secret: []byte("example-secret-example-secret-0123456789")})
	if err != nil {
		log.Fatal(err)
	}
	a.OnPassword(func(ctx context.Context, username, password string) (*chatauth.User, error) {
		if username == "ada" && password == "lovelace" {
			return &chatauth.User{Identifier: "ada"}, nil
		}
		return nil, nil
	})
	chatPage := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s", chatauth.UserFrom(r.Context()).Identifier)
	})
	mux := http.NewServeMux()
	a.Mount(mux)

	page := loginpage.Must(loginpage.New(a, loginpage.Options{Title: "Acme chat"}))
	page.Mount(mux)                                    // GET R/login
	mux.Handle("GET /{$}", page.RequireUser(chatPage)) // no session: to the sign-in page

	srv := httptest.NewServer(mux)
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	navigate := func(method, path string, form url.Values) string {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Accept", "text/html")
		req.Header.Set("Sec-Fetch-Mode", "navigate")
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := browser.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if strings.Contains(string(body), `id="login-form"`) {
			return resp.Request.URL.RequestURI() + ": the sign-in page"
		}
		return resp.Request.URL.RequestURI() + ": " + string(body)
	}
	fmt.Println(navigate("GET", "/", nil))
	fmt.Println(navigate("POST", "/login", url.Values{"username": {"ada"}, "password": {"nope"}}))
	fmt.Println(navigate("POST", "/login", url.Values{"username": {"ada"}, "password": {"lovelace"}}))
	// Output:
	// /login: the sign-in page
	// /login?error=credentialssignin: the sign-in page
	// /: hello ada
}

// URL is where RequireUser sends a browser without a valid session: the
// reason, from the session check's error, and the way back after signing
// in, when it is a safe path of the app.
func ExamplePage_URL() {
	a, err := chatauth.New(chatauth.Config{
		Secret: []byte("example-secret-example-secret-0123456789"),
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	page := loginpage.Must(loginpage.New(a, loginpage.Options{}))
	fmt.Println(page.URL(chatauth.ErrExpired, "/chat/42"))
	fmt.Println(page.URL(chatauth.ErrRevoked, ""))
	fmt.Println(page.URL(nil, "https://elsewhere.example/"))
	// Output:
	// /login?error=session_expired&redirect=/chat/42
	// /login?notice=logged_out_elsewhere
	// /login
}

// New checks every option at once and names each bad one.
func ExampleNew() {
	a, err := chatauth.New(chatauth.Config{
		Secret: []byte("example-secret-example-secret-0123456789"),
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	_, err = loginpage.New(a, loginpage.Options{
		LogoURL:  "ftp://logo.example/logo.png",
		Messages: map[string]map[string]string{"fr": {"sign_inn": "Se connecter"}},
	})
	fmt.Println(err)
	// Output:
	// loginpage: bad options: LogoURL: "ftp://logo.example/logo.png" is neither a path on the app (/static/...) nor an http(s) URL
	// Messages["fr"]: unknown key "sign_inn" (the keys are those of messages/en.json)
}
