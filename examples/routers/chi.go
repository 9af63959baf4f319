package main

import (
	"net/http"

	"github.com/go-chi/chi/v5"
)

// withChi serves the app on a chi router. chatauth's paths are handed to
// the Auth with any method: it routes the methods itself (405 with Allow)
// and answers CORS preflights. RequireUser is ordinary chi middleware.
func withChi(app *chatApp) http.Handler {
	a, root := app.auth, app.root
	r := chi.NewRouter()
	r.Handle(root+"/login", a)
	r.Handle(root+"/logout", a)
	r.Handle(root+"/user", a)
	r.Handle(root+"/auth/*", a)
	r.With(a.RequireUser).Get(root+"/api/me", app.me)
	r.With(a.RequireUser).Get(root+"/api/stream", app.stream)
	return r
}
