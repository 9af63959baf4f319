//go:build darwin || dragonfly || freebsd || illumos || linux || netbsd || openbsd

package statelog

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// lockDir takes an exclusive flock on the lock file, which the kernel
// releases when the process ends, however it ends: no stale lock after a
// crash. The file holds the owner's process id, for the error a second
// process gets.
func lockDir(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("statelog: opening lock %s: %w", path, err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		owner, _ := os.ReadFile(path)
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s is held%s", ErrLocked, path, ownerText(owner))
		}
		return nil, fmt.Errorf("statelog: locking %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}

// ownerText names the process id a lock file holds, if it holds one.
func ownerText(owner []byte) string {
	if pid, err := strconv.Atoi(strings.TrimSpace(string(owner))); err == nil && pid > 0 {
		return " by process " + strconv.Itoa(pid)
	}
	return ""
}

// syncDir fsyncs a directory, so that the files created, renamed or
// removed in it stay so after a power cut.
func syncDir(path string) error {
	d, err := os.Open(path)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
