package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// options is everything newServer needs; parseFlags fills it from the
// command line and the environment, tests fill it directly.
type options struct {
	// Addr is where start listens; default 127.0.0.1:8000.
	Addr string
	// Root is the root path every page and auth route lives under; it
	// overrides CHAINLIT_ROOT_PATH.
	Root string
	// Getenv reads the environment (os.Getenv in main).
	Getenv func(string) string
	// Log receives the app's and chatauth's log lines; default: text to
	// Stderr at the level of CHATAUTH_LOG_LEVEL.
	Log *slog.Logger
	// Stderr is where the default logger writes.
	Stderr io.Writer
	// TokenInterval is the bot's pause between two streamed tokens;
	// default 35 ms.
	TokenInterval time.Duration
	// DefaultStateDir is where the demo keeps logouts and provider tokens
	// when neither CHATAUTH_STATE_DIR nor CHATAUTH_REDIS_URL is set:
	// parseFlags makes it a folder per -addr in the user's cache directory. Empty
	// keeps them in memory.
	DefaultStateDir string
}

// parseFlags reads -addr and -root (default $CHAINLIT_ROOT_PATH).
func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := options{Getenv: getenv, Stderr: stderr}
	fs.StringVar(&o.Addr, "addr", "127.0.0.1:8000", "`host:port` to listen on")
	fs.StringVar(&o.Root, "root", getenv("CHAINLIT_ROOT_PATH"), "root `path` the app lives under, e.g. /chat (default $CHAINLIT_ROOT_PATH)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	o.DefaultStateDir = demoStateDir(o.Addr)
	return o, nil
}

// newLogger makes the demo's logger: text on w at the level named by
// CHATAUTH_LOG_LEVEL (debug, info, warn, error; default info).
func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if level != "" {
		if err := l.UnmarshalText([]byte(level)); err != nil {
			return nil, fmt.Errorf("CHATAUTH_LOG_LEVEL=%q: want debug, info, warn or error", level)
		}
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}
