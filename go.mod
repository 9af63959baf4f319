module github.com/chatauth/chatauth

go 1.25
