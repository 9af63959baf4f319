package chatauth

import (
	"errors"
	"fmt"
	"log/slog"
)

// Chainlit accepts any non-empty CHAINLIT_AUTH_SECRET; chatauth signs only
// with 32 bytes or more (RFC 7518 section 3.2). A deployment moving over
// with a shorter secret signs with a new long one and keeps the old as a
// previous secret, which verifies the sessions it signed until they end.

// checkSecrets checks the signing secret and the previous secrets, for
// New and SetSecrets alike: current needs minSecretBytes, a previous
// secret may be shorter but not empty.
func checkSecrets(current []byte, previous [][]byte) error {
	var errs []error
	switch {
	case len(current) == 0:
		//lint:ignore ST1005 the message begins with the field's name, as every Config error does
		errs = append(errs, fmt.Errorf("Secret is missing: set CHAINLIT_AUTH_SECRET (%s)", createSecretHint))
	case len(current) < minSecretBytes:
		//lint:ignore ST1005 the message begins with the field's name, as every Config error does
		errs = append(errs, fmt.Errorf("Secret is %d bytes, needs at least %d (%s); a shorter secret of a Chainlit deployment "+
			"can keep verifying its sessions as a previous secret (CHATAUTH_PREVIOUS_SECRETS)",
			len(current), minSecretBytes, createSecretHint))
	}
	if err := checkPreviousSecrets(previous); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// checkPreviousSecrets refuses an empty previous secret (an empty HMAC key
// is one anybody can sign with); short ones are accepted, for
// verification only.
func checkPreviousSecrets(previous [][]byte) error {
	for i, s := range previous {
		if len(s) == 0 {
			return fmt.Errorf("PreviousSecrets[%d] is empty", i)
		}
	}
	return nil
}

// warnShortSecrets logs, once per key change, each previous secret shorter
// than 32 bytes: it verifies old sessions, and should go once they ended.
func warnShortSecrets(logger *slog.Logger, previous [][]byte, sessionTimeout string) {
	for i, s := range previous {
		if len(s) < minSecretBytes {
			logger.Warn("chatauth: a previous secret is shorter than 32 bytes: it only verifies the sessions it signed; remove it once they have ended",
				slog.Int("previous_secret", i), slog.Int("bytes", len(s)), slog.String("sessions_end_within", sessionTimeout))
		}
	}
}

// longSecrets are the previous secrets of 32 bytes or more: the only ones
// used for anything besides verifying old session tokens.
func longSecrets(previous [][]byte) [][]byte {
	var long [][]byte
	for _, s := range previous {
		if len(s) >= minSecretBytes {
			long = append(long, s)
		}
	}
	return long
}
