module github.com/chatauth/chatauth

go 1.25.0

require (
	github.com/golang-jwt/jwt/v5 v5.3.1
	golang.org/x/crypto v0.55.0
	golang.org/x/oauth2 v0.36.0
)
