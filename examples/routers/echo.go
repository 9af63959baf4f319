package main

import (
	"net/http"

	"github.com/chatauth/chatauth"
	"github.com/labstack/echo/v4"
)

// withEcho serves the app on echo. echo.WrapHandler and echo.WrapMiddleware
// adapt chatauth's http.Handler and middleware; echoUser reads the user in
// an echo handler.
func withEcho(app *chatApp) http.Handler {
	a, root := app.auth, app.root
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	auth := echo.WrapHandler(a)
	e.Any(root+"/login", auth)
	e.Any(root+"/logout", auth)
	e.Any(root+"/user", auth)
	e.Any(root+"/auth/*", auth)
	requireUser := echo.WrapMiddleware(a.RequireUser)
	e.GET(root+"/api/me", echoMe, requireUser)
	e.GET(root+"/api/stream", echo.WrapHandler(http.HandlerFunc(app.stream)), requireUser)
	return e
}

// echoUser is the user that RequireUser put in the request's context.
func echoUser(c echo.Context) *chatauth.User {
	return chatauth.UserFrom(c.Request().Context())
}

// echoMe is GET R/api/me written as an echo handler.
func echoMe(c echo.Context) error {
	return c.JSON(http.StatusOK, echoUser(c))
}
