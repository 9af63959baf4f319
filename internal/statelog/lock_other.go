//go:build !(darwin || dragonfly || freebsd || illumos || linux || netbsd || openbsd || windows)

package statelog

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// lockDir creates the lock file exclusively, on systems without flock:
// unlike a flock it outlives a crash, so a process that died holding it
// leaves it behind, and the error says to remove it.
func lockDir(path string) (*exclusiveFile, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("%w: %s exists (remove it if no process uses the directory)", ErrLocked, path)
	}
	if err != nil {
		return nil, fmt.Errorf("statelog: locking %s: %w", path, err)
	}
	return &exclusiveFile{f}, nil
}

// exclusiveFile removes the lock file when closed.
type exclusiveFile struct{ *os.File }

func (e *exclusiveFile) Close() error {
	return errors.Join(e.File.Close(), os.Remove(e.Name()))
}

// syncDir fsyncs a directory where the system allows it.
func syncDir(path string) error {
	d, err := os.Open(path)
	if err != nil {
		return err
	}
	_ = d.Sync() // not every system can sync a directory
	return d.Close()
}
