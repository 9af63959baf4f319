package providers

var testSecret = []byte("chatauth-test-secret-0123456789abcdef")
