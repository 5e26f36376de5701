package serving

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// certCheckInterval is how often CertFile looks at the files' modification
// times: at most once a minute, on a handshake.
const certCheckInterval = time.Minute

// CertFile serves a certificate and key read from PEM files, and reads them
// again when either file's modification time changes, so that a renewal by
// another tool (certbot, a deploy hook) needs no restart. A renewal that
// cannot be loaded (a key that does not match, a half-written file) is
// logged and the previous certificate stays in use until the files are
// fixed.
type CertFile struct {
	certPath, keyPath string
	log               *slog.Logger
	now               func() time.Time

	mu        sync.Mutex
	cert      *tls.Certificate
	certMod   time.Time
	keyMod    time.Time
	checkedAt time.Time
}

// LoadCertFile reads the certificate chain (leaf first) and its private key.
// log receives reload messages; nil discards them.
func LoadCertFile(certPath, keyPath string, log *slog.Logger) (*CertFile, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &CertFile{certPath: certPath, keyPath: keyPath, log: log, now: time.Now}
	cert, certMod, keyMod, err := c.load()
	if err != nil {
		return nil, err
	}
	c.cert, c.certMod, c.keyMod, c.checkedAt = cert, certMod, keyMod, c.now()
	return c, nil
}

// GetCertificate is for tls.Config.GetCertificate.
func (c *CertFile) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := c.now(); now.Sub(c.checkedAt) >= certCheckInterval {
		c.checkedAt = now
		c.reloadIfChanged()
	}
	return c.cert, nil
}

// Leaf returns the certificate currently served.
func (c *CertFile) Leaf() *x509.Certificate {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cert.Leaf
}

func (c *CertFile) reloadIfChanged() {
	cst, err1 := os.Stat(c.certPath)
	kst, err2 := os.Stat(c.keyPath)
	if err1 != nil || err2 != nil {
		// Mid-rename, or removed: keep serving what we have.
		return
	}
	if cst.ModTime().Equal(c.certMod) && kst.ModTime().Equal(c.keyMod) {
		return
	}
	cert, certMod, keyMod, err := c.load()
	if err != nil {
		// Not recorded as seen: tried again at the next check.
		c.log.Warn("the changed TLS certificate files cannot be loaded; still serving the previous certificate", "err", err)
		return
	}
	c.cert, c.certMod, c.keyMod = cert, certMod, keyMod
	c.log.Info("reloaded TLS certificate", "file", c.certPath, "subject", cert.Leaf.Subject.String(), "not_after", cert.Leaf.NotAfter)
}

func (c *CertFile) load() (*tls.Certificate, time.Time, time.Time, error) {
	// Stat before reading: a change while we read shows up at the next check.
	cst, err := os.Stat(c.certPath)
	if err != nil {
		return nil, time.Time{}, time.Time{}, fmt.Errorf("--tls-cert: %w", err)
	}
	kst, err := os.Stat(c.keyPath)
	if err != nil {
		return nil, time.Time{}, time.Time{}, fmt.Errorf("--tls-key: %w", err)
	}
	cert, err := tls.LoadX509KeyPair(c.certPath, c.keyPath)
	if err != nil {
		return nil, time.Time{}, time.Time{}, fmt.Errorf("load --tls-cert %s and --tls-key %s: %w; give a PEM certificate chain (leaf first) and the PEM private key that belongs to it", c.certPath, c.keyPath, err)
	}
	if cert.Leaf == nil {
		if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, time.Time{}, time.Time{}, fmt.Errorf("parse --tls-cert %s: %w", c.certPath, err)
		}
	}
	return &cert, cst.ModTime(), kst.ModTime(), nil
}
