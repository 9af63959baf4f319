package main

import (
	"net/http"

	"github.com/gorilla/mux"
)

// withGorillaMux serves the app on a gorilla/mux router. chatauth's paths
// are handed to the Auth with any method, as with chi; the app's own
// routes name their method, and gorilla answers others with 405.
func withGorillaMux(app *chatApp) http.Handler {
	a, root := app.auth, app.root
	r := mux.NewRouter()
	r.Handle(root+"/login", a)
	r.Handle(root+"/logout", a)
	r.Handle(root+"/user", a)
	r.PathPrefix(root + "/auth/").Handler(a)
	r.Handle(root+"/api/me", a.RequireUser(http.HandlerFunc(app.me))).Methods(http.MethodGet)
	r.Handle(root+"/api/stream", a.RequireUser(http.HandlerFunc(app.stream))).Methods(http.MethodGet)
	return r
}
