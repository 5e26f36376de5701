package inbound

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strings"
	"time"
)

// SocketMode is the mode of a Unix socket Listen creates: the mail
// server's delivery agent (Postfix's lmtp, running as the postfix user)
// connects through the group, and nobody else can.
const SocketMode fs.FileMode = 0o660

// SocketPath reports whether addr names a Unix socket, "/path" or
// "unix:/path", and returns its path.
func SocketPath(addr string) (string, bool) {
	if p, ok := strings.CutPrefix(addr, "unix:"); ok {
		return p, true
	}
	return addr, strings.HasPrefix(addr, "/")
}

// Listen listens on addr: host:port for TCP, or a Unix socket path
// ("/run/storekeep/lmtp.sock" or "unix:/..."). A socket is created with
// SocketMode; a stale one left by a process that died is removed first,
// but a socket something still answers on is not taken over. Closing
// the listener removes the socket.
func Listen(addr string) (net.Listener, error) {
	path, ok := SocketPath(addr)
	if !ok {
		return net.Listen("tcp", addr)
	}
	if path == "" || !strings.HasPrefix(path, "/") {
		return nil, fmt.Errorf("%q: a Unix socket needs an absolute path, e.g. /run/storekeep/lmtp.sock", addr)
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode().Type() != fs.ModeSocket {
			return nil, fmt.Errorf("%s exists and is not a socket: remove it or choose another path", path)
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			_ = c.Close()
			return nil, fmt.Errorf("%s is in use by another process: stop it or choose another path", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("remove the stale socket %s: %w", path, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, SocketMode); err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("set the mode of %s: %w", path, err)
	}
	return ln, nil
}
