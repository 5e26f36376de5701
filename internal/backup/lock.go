package backup

import (
	"errors"
	"fmt"
	"os"
)

// The instance lock tells a restore that the database is in use: serve
// holds a shared flock(2) on DB.lock, beside the SQLite file, for as long
// as it runs (several may), and restore takes it exclusively, so it
// refuses while any instance runs, and an instance started during a
// restore refuses to start. The kernel drops the lock when a process
// ends, however it ends, so a crash leaves no stale lock behind.

// ErrInUse is a database that a running instance uses.
var ErrInUse = errors.New("a running Storekeep instance uses this database")

// ErrRestoring is a database that a restore is replacing.
var ErrRestoring = errors.New("a restore is replacing this database")

// LockPath is the instance lock file of the SQLite database at dbPath.
func LockPath(dbPath string) string { return dbPath + ".lock" }

// HoldInstance takes the shared instance lock of the database at dbPath
// for a running instance; release gives it up. It fails with
// ErrRestoring while a restore holds the lock.
func HoldInstance(dbPath string) (release func(), err error) {
	f, err := flock(dbPath, false)
	if errors.Is(err, errWouldBlock) {
		return nil, fmt.Errorf("%w (%s): wait until it has finished, then start again", ErrRestoring, LockPath(dbPath))
	}
	if err != nil {
		return nil, err
	}
	return func() { f.Close() }, nil
}

// lockExclusive takes the instance lock for a restore; ErrInUse when an
// instance holds it.
func lockExclusive(dbPath string) (release func(), err error) {
	f, err := flock(dbPath, true)
	if errors.Is(err, errWouldBlock) {
		return nil, fmt.Errorf("%w (it holds %s): stop it (systemctl stop storekeep, or end the process), then restore again; nothing was changed", ErrInUse, LockPath(dbPath))
	}
	if err != nil {
		return nil, err
	}
	return func() { f.Close() }, nil
}

func flock(dbPath string, exclusive bool) (*os.File, error) {
	f, err := os.OpenFile(LockPath(dbPath), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("instance lock: %w", err)
	}
	if err := tryLock(f, exclusive); err != nil {
		f.Close()
		if errors.Is(err, errWouldBlock) {
			return nil, err
		}
		return nil, fmt.Errorf("instance lock %s: %w", LockPath(dbPath), err)
	}
	return f, nil
}
