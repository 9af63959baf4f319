// Command chatauth is chatauth's small helper for operators, in the spirit
// of Chainlit's `chainlit create-secret`:
//
//	chatauth create-secret   print a fresh secret for CHAINLIT_AUTH_SECRET
//	chatauth hash-password   read a password on stdin, print its bcrypt hash
//
// Run it without installing:
//
//	go run github.com/chatauth/chatauth/cmd/chatauth@latest create-secret
package main

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/chatauth/chatauth"
)

// secretBytes is the entropy of a generated secret: 384 bits, well above
// the 32 bytes HS256 needs, printed as 64 base64url characters.
const secretBytes = 48

// maxPasswordLine bounds what hash-password reads, so a stray pipe of a
// large file fails fast instead of filling memory.
const maxPasswordLine = 4096

const usage = `usage: chatauth <command>

commands:
  create-secret   print a fresh random secret for CHAINLIT_AUTH_SECRET
  hash-password   read a password from stdin (first line) and print its bcrypt hash
  help            show this help

examples:
  export CHAINLIT_AUTH_SECRET="$(go run github.com/chatauth/chatauth/cmd/chatauth@latest create-secret)"
  read -rs PW && printf '%s\n' "$PW" | go run github.com/chatauth/chatauth/cmd/chatauth@latest hash-password
`

func main() {
	if len(os.Args) > 1 && os.Args[1] == "hash-password" && isTerminal(os.Stdin) {
		fmt.Fprint(os.Stderr, "Password (visible as you type; pipe it in to hide it): ")
	}
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is the whole command, with its streams passed in; it returns the
// process exit code: 0 success, 1 failure, 2 bad usage.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) != 1 {
		_, _ = io.WriteString(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "create-secret":
		err = createSecret(stdout)
	case "hash-password":
		err = hashPassword(stdin, stdout)
	default:
		_, _ = io.WriteString(stderr, usage)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "chatauth %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

// createSecret prints secretBytes random bytes, base64url without padding.
func createSecret(stdout io.Writer) error {
	b := make([]byte, secretBytes)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	_, err := fmt.Fprintln(stdout, base64.RawURLEncoding.EncodeToString(b))
	return err
}

// hashPassword reads the first line of stdin (without its line ending) and
// prints its bcrypt hash.
func hashPassword(stdin io.Reader, stdout io.Writer) error {
	password, err := readLine(stdin)
	if err != nil {
		return err
	}
	if password == "" {
		return errors.New("empty password: write the password on the first line of stdin")
	}
	hash, err := chatauth.HashPassword(password)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, hash)
	return err
}

// readLine returns the first line of r without "\n" or "\r\n".
func readLine(r io.Reader) (string, error) {
	br := bufio.NewReaderSize(io.LimitReader(r, maxPasswordLine+2), maxPasswordLine+2)
	line, err := br.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading stdin: %w", err)
	}
	if err != nil && len(line) > maxPasswordLine {
		return "", fmt.Errorf("first line of stdin is longer than %d bytes", maxPasswordLine)
	}
	line = strings.TrimSuffix(line, "\n")
	return strings.TrimSuffix(line, "\r"), nil
}

// isTerminal reports whether f looks like an interactive terminal.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
