package main

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/chatauth/chatauth"
)

// demoStateDir is where the demo listening on addr keeps logouts and
// provider tokens across restarts unless told otherwise: a folder per
// listen address in the user's cache directory
// (~/.cache/chatauth-demo/127.0.0.1_8000 on Linux), so that demos on two
// ports can run at once while a restart on the same address finds its
// state again. Empty when there is no such directory: state then lives in
// memory, and chatauth says so.
func demoStateDir(addr string) string {
	cache, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(cache, "chatauth-demo", strings.Map(func(r rune) rune {
		if r == '.' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '_'
	}, addr))
}

// chooseStateDir sets cfg.StateDir: CHATAUTH_STATE_DIR when set (already
// in cfg, from chatauth.ConfigFromEnv), else the default, unless the
// instances share a Redis, which then keeps the state instead.
func chooseStateDir(cfg *chatauth.Config, defaultDir string, redis bool, log *slog.Logger) error {
	switch {
	case redis && cfg.Stores.StateDir != "":
		return errors.New("CHATAUTH_STATE_DIR and CHATAUTH_REDIS_URL are both set: " +
			"the state directory is for one instance, Redis for several; set one")
	case redis:
		return nil
	case cfg.Stores.StateDir == "":
		cfg.Stores.StateDir = defaultDir
	}
	if cfg.Stores.StateDir != "" {
		log.Info("chat: logouts and provider tokens survive restarts", "state_dir", cfg.Stores.StateDir)
	}
	return nil
}
