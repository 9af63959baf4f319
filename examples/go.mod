module github.com/chatauth/chatauth/examples

go 1.25.0

require github.com/chatauth/chatauth v0.0.0

require (
	github.com/golang-jwt/jwt/v5 v5.3.1 // indirect
	golang.org/x/crypto v0.55.0 // indirect
	golang.org/x/oauth2 v0.36.0 // indirect
)

replace github.com/chatauth/chatauth => ../
