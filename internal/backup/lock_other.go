//go:build !unix

package backup

import (
	"errors"
	"os"
)

var errWouldBlock = errors.New("locked")

// tryLock takes no lock where flock(2) does not exist: stop the instance
// before a restore yourself there (docs/backups.md).
func tryLock(f *os.File, exclusive bool) error { return nil }
