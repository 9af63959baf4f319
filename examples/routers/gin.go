package main

import (
	"net/http"

	"github.com/chatauth/chatauth"
	"github.com/gin-gonic/gin"
)

// withGin serves the app on gin. gin.WrapH adapts chatauth's http.Handler;
// ginMiddleware adapts RequireUser, and ginUser reads the user in a gin
// handler. HandleMethodNotAllowed makes a wrong method 405, as in the
// other routers, rather than gin's default 404.
func withGin(app *chatApp) http.Handler {
	a, root := app.auth, app.root
	r := gin.New()
	r.Use(gin.Recovery())
	r.HandleMethodNotAllowed = true
	auth := gin.WrapH(a)
	r.Any(root+"/login", auth)
	r.Any(root+"/logout", auth)
	r.Any(root+"/user", auth)
	r.Any(root+"/auth/*path", auth)
	requireUser := ginMiddleware(a.RequireUser)
	r.GET(root+"/api/me", requireUser, ginMe)
	r.GET(root+"/api/stream", requireUser, gin.WrapF(app.stream))
	return r
}

// ginMiddleware runs net/http middleware such as RequireUser in gin: the
// rest of the chain runs inside it, with the request it passes on (the user
// in its context), or not at all when it answered the request itself. mw
// must pass on the ResponseWriter it was given, as chatauth's middleware does.
func ginMiddleware(mw func(http.Handler) http.Handler) gin.HandlerFunc {
	return func(c *gin.Context) {
		next := http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { c.Request = r; c.Next() })
		mw(next).ServeHTTP(c.Writer, c.Request)
		c.Abort() // the chain has run in next, or must not run
	}
}

// ginUser is the user that RequireUser put in the request's context.
func ginUser(c *gin.Context) *chatauth.User {
	return chatauth.UserFrom(c.Request.Context())
}

// ginMe is GET R/api/me written as a gin handler.
func ginMe(c *gin.Context) {
	c.JSON(http.StatusOK, ginUser(c))
}
