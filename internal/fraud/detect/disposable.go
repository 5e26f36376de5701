package detect

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"
)

//go:embed disposable.txt
var builtinDisposable []byte

// MaxDomainFile bounds an operator's domain list (a few hundred thousand
// domains fit).
const MaxDomainFile = 16 << 20

// ParseDomains reads a list of domains: one a line, blank lines and lines
// starting with # ignored, surrounding spaces dropped, upper case folded. A
// line that is not a domain name (letters, digits and hyphens in dot-
// separated labels of at most 63 bytes, at least two labels, at most 253
// bytes) is refused with its line number, so a broken file is noticed
// rather than half applied.
func ParseDomains(data []byte) (map[string]bool, error) {
	if len(data) > MaxDomainFile {
		return nil, fmt.Errorf("the list has %d bytes; at most %d are read", len(data), MaxDomainFile)
	}
	out := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 4096)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		d := strings.ToLower(strings.TrimSuffix(line, "."))
		if !isDomain(d) {
			return nil, fmt.Errorf("line %d: %q is not a domain name (one domain a line, # for comments)", n, cutText(line, 80))
		}
		out[d] = true
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", n+1, err)
	}
	return out, nil
}

func cutText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func isDomain(d string) bool {
	if len(d) == 0 || len(d) > 253 {
		return false
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// Disposable is the disposable-mail domain list: the built-in one plus the
// operator's file, which is read again when its modification time or size
// changes (looked at no more than every reloadEvery), so an update needs no
// restart. A file that breaks on reload keeps the list it had, and says so
// in the log; one that is broken at start is an error for the operator.
type Disposable struct {
	path string
	log  *slog.Logger
	now  func() time.Time

	mu      sync.RWMutex
	domains map[string]bool
	checked time.Time
	mtime   time.Time
	size    int64
}

const reloadEvery = 30 * time.Second

// NewDisposable loads the built-in list and, when path is not "", the
// operator's file. log receives reload failures; nil discards them.
func NewDisposable(path string, log *slog.Logger) (*Disposable, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &Disposable{path: path, log: log, now: time.Now}
	if err := l.load(); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *Disposable) load() error {
	base, err := ParseDomains(builtinDisposable)
	if err != nil {
		return fmt.Errorf("the built-in disposable-mail list: %w", err)
	}
	var mtime time.Time
	var size int64
	if l.path != "" {
		fi, err := os.Stat(l.path)
		if err != nil {
			return fmt.Errorf("disposable-mail domains %s: %w", l.path, err)
		}
		if fi.Size() > MaxDomainFile {
			return fmt.Errorf("disposable-mail domains %s: %d bytes; at most %d are read", l.path, fi.Size(), MaxDomainFile)
		}
		data, err := os.ReadFile(l.path)
		if err != nil {
			return fmt.Errorf("disposable-mail domains %s: %w", l.path, err)
		}
		extra, err := ParseDomains(data)
		if err != nil {
			return fmt.Errorf("disposable-mail domains %s: %w", l.path, err)
		}
		for d := range extra {
			base[d] = true
		}
		mtime, size = fi.ModTime(), fi.Size()
	}
	l.mu.Lock()
	l.domains, l.mtime, l.size, l.checked = base, mtime, size, l.now()
	l.mu.Unlock()
	return nil
}

// maybeReload reads the file again when it changed; cheap (a stat) and at
// most every reloadEvery.
func (l *Disposable) maybeReload() {
	if l.path == "" {
		return
	}
	now := l.now()
	l.mu.RLock()
	due := now.Sub(l.checked) >= reloadEvery
	mtime, size := l.mtime, l.size
	l.mu.RUnlock()
	if !due {
		return
	}
	l.mu.Lock()
	l.checked = now
	l.mu.Unlock()
	fi, err := os.Stat(l.path)
	if err != nil {
		l.log.Error("disposable-mail domains: the file cannot be read; the list loaded before stays", "path", l.path, "error", err.Error())
		return
	}
	if fi.ModTime().Equal(mtime) && fi.Size() == size {
		return
	}
	if err := l.load(); err != nil {
		l.log.Error("disposable-mail domains: the changed file was not loaded; the list loaded before stays", "error", err.Error())
	}
}

// Len is how many domains the list holds.
func (l *Disposable) Len() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.domains)
}

// Match returns the listed domain that an email address's domain is or is
// under ("" when none): mail.mailinator.com matches mailinator.com.
func (l *Disposable) Match(email string) string {
	if l == nil {
		return ""
	}
	l.maybeReload()
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return ""
	}
	d := strings.ToLower(strings.TrimSuffix(email[at+1:], "."))
	l.mu.RLock()
	defer l.mu.RUnlock()
	for d != "" {
		if l.domains[d] {
			return d
		}
		i := strings.IndexByte(d, '.')
		if i < 0 {
			break
		}
		d = d[i+1:]
	}
	return ""
}
