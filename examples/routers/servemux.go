package main

import "net/http"

// withServeMux serves the app on net/http's ServeMux. Mount registers
// chatauth's routes with method patterns, so the mux answers a wrong method
// with 405 and an Allow header, and R/login/ (a trailing slash) with 404.
func withServeMux(app *chatApp) http.Handler {
	a, root := app.auth, app.root
	mux := http.NewServeMux()
	a.Mount(mux)
	mux.Handle("GET "+root+"/api/me", a.RequireUser(http.HandlerFunc(app.me)))
	mux.Handle("GET "+root+"/api/stream", a.RequireUser(http.HandlerFunc(app.stream)))
	return mux
}
