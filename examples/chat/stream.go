package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/chatauth/chatauth"
)

// maxMessageRunes bounds a chat message.
const maxMessageRunes = 4000

// eventWriteTimeout bounds the write of one streamed event: a reader that
// stops reading is cut, while the whole stream may outlive the server's
// WriteTimeout.
const eventWriteTimeout = 10 * time.Second

// serveStream answers POST R/chat/stream (form field "message") with the
// bot's reply as Server-Sent Events: one "token" event per word, then
// "done". RequireUser has checked the session cookie and, this being a
// POST, that the request is same-origin. When the session ends meanwhile
// (a logout or "log out everywhere" on any instance, which WatchSession
// hears of within milliseconds, or its absolute end), the stream stops
// with a "session_ended" event naming why, in the sign-in page's codes:
// {"notice": "logged_out_elsewhere"} or {"error": "session_expired"}.
func (s *server) serveStream(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	msg := strings.TrimSpace(r.PostFormValue("message"))
	switch {
	case msg == "":
		writeDetail(w, http.StatusBadRequest, "missing field: message")
		return
	case utf8.RuneCountInString(msg) > maxMessageRunes:
		writeDetail(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("message longer than %d characters", maxMessageRunes))
		return
	}
	sess := chatauth.SessionFrom(r.Context())
	tokens := tokenize(botReply(sess, msg))

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // ask nginx-like proxies not to buffer
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	ended := s.auth.WatchSession(r.Context(), sess)
	ticker := time.NewTicker(s.tokenInterval)
	defer ticker.Stop()
	for i, tok := range tokens {
		if i > 0 {
			select {
			case <-ticker.C:
			case err, ok := <-ended:
				if ok { // closed without a value: the browser went away
					_ = writeEvent(w, rc, "session_ended", endedWhy(err))
					s.log.Info("chat: stream ended with the session", "user", sess.User.Identifier, "error", err)
				}
				return
			case <-r.Context().Done():
				return // the browser went away
			}
		}
		if err := writeEvent(w, rc, "token", map[string]string{"text": tok}); err != nil {
			return
		}
	}
	_ = writeEvent(w, rc, "done", map[string]int{"tokens": len(tokens)})
	s.log.Debug("chat: reply streamed", "user", sess.User.Identifier, "tokens", len(tokens))
}

// endedWhy is the "session_ended" event's payload for WatchSession's
// error: the sign-in page's code for it.
func endedWhy(err error) map[string]string {
	if errors.Is(err, chatauth.ErrExpired) {
		return map[string]string{"error": chatauth.ErrorSessionExpired}
	}
	return map[string]string{"notice": chatauth.NoticeLoggedOutElsewhere}
}

// writeEvent writes one Server-Sent Event with a JSON payload and flushes
// it, within eventWriteTimeout.
func writeEvent(w io.Writer, rc *http.ResponseController, event string, data any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	if err := rc.SetWriteDeadline(time.Now().Add(eventWriteTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b); err != nil {
		return err
	}
	if err := rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	return nil
}

// writeDetail answers a JSON error the way chatauth does.
func writeDetail(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"detail": detail})
}

// tokenize cuts a reply into the pieces the bot streams: words with their
// following space.
func tokenize(reply string) []string {
	words := strings.Fields(reply)
	for i := range words[:len(words)-1] {
		words[i] += " "
	}
	return words
}

// botReply is the demo bot: it knows who it talks to, and little else.
func botReply(sess *chatauth.Session, msg string) string {
	u := sess.User
	name := displayName(u)
	lower := strings.ToLower(msg)
	switch {
	case lower == "/whoami" || strings.Contains(lower, "who am i"):
		return whoAmI(sess)
	case strings.HasPrefix(lower, "hi") || strings.HasPrefix(lower, "hello") || strings.HasPrefix(lower, "hey"):
		return fmt.Sprintf("Hi %s! Nice to meet you. Every word of this reply arrives as its own event, "+
			"on a stream that only your session cookie can open. Type /whoami to see what the server knows about you.", name)
	case strings.HasSuffix(msg, "?"):
		return fmt.Sprintf("Good question, %s. I am only a demo bot, so all I can do is ask it back: %s "+
			"A real bot would think about it and answer, token by token, just like this.", name, quote(msg))
	}
	q, words := quote(msg), len(strings.Fields(msg))
	replies := []string{
		fmt.Sprintf("You said %s, %s. That is %d words, streamed back to you one token at a time over Server-Sent Events.", q, name, words),
		fmt.Sprintf("Noted, %s: %s. I counted %d words. A real model would have something clever to add here.", name, q, words),
		fmt.Sprintf("%s, %s? Interesting. Tell me more, or type /whoami to see your session.", q, name),
	}
	h := fnv.New32a()
	_, _ = io.WriteString(h, msg)
	return replies[h.Sum32()%uint32(len(replies))]
}

// whoAmI describes the session.
func whoAmI(sess *chatauth.Session) string {
	u := sess.User
	return fmt.Sprintf("You are %s, signed in %s. Your session ends on %s unless you log out first.",
		u.Identifier, signedInWith(u), sess.ExpiresAt.UTC().Format("Monday 2 January 2006 at 15:04 UTC"))
}

// signedInWith puts metadata["provider"] into words.
func signedInWith(u *chatauth.User) string {
	switch p, _ := u.Metadata["provider"].(string); p {
	case "credentials":
		return "with a password"
	case "header":
		return "by your proxy's word (header login)"
	case "":
		return "somehow"
	default:
		return "with " + p
	}
}

// quote puts a message in quotes, shortened to a readable length.
func quote(msg string) string {
	const max = 160
	if utf8.RuneCountInString(msg) > max {
		msg = string([]rune(msg)[:max]) + "…"
	}
	return "“" + strings.Join(strings.Fields(msg), " ") + "”"
}
