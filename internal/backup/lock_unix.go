//go:build unix

package backup

import (
	"os"
	"syscall"
)

var errWouldBlock error = syscall.EWOULDBLOCK

// tryLock takes flock(2) on f without waiting.
func tryLock(f *os.File, exclusive bool) error {
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	return syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
}
