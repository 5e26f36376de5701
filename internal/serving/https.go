// Package serving puts Storekeep's web handler on the network: HTTPS with
// certificates obtained automatically over ACME (shared by all instances
// through the database) or read from files, the plain-HTTP listener that
// redirects to HTTPS and answers ACME challenges, and, behind a reverse
// proxy, which client a request came from (ClientIP, IsHTTPS).
package serving

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// TLSConfig returns the TLS settings every HTTPS listener uses: TLS 1.2 at
// least; for TLS 1.2 only forward-secret AEAD suites (ECDHE with AES-GCM or
// ChaCha20-Poly1305); key exchange with X25519 (also in its post-quantum
// hybrid with ML-KEM) or P-256. TLS 1.3 suites are all AEAD and not
// configurable.
func TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
			tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
		CurvePreferences: []tls.CurveID{tls.X25519MLKEM768, tls.X25519, tls.CurveP256},
		NextProtos:       []string{"h2", "http/1.1"},
	}
}

// Options selects how the site gets its certificate: Domains for ACME, or
// CertFile and KeyFile.
type Options struct {
	// BaseURL is the site's public https:// URL; redirects go to its host
	// (or to one of Domains) and port.
	BaseURL string

	// Domains turns on automatic certificates for these host names.
	Domains []string
	// ACMEEmail is the contact address given to the certificate authority.
	ACMEEmail string
	// ACMEDirectory is the CA's directory URL (default: Let's Encrypt).
	ACMEDirectory string
	// ACMECache stores the account key and certificates: a DBCache, or an
	// autocert.DirCache.
	ACMECache autocert.Cache
	// ACMEHTTPClient talks to the CA; nil means http.DefaultClient. Tests
	// use it to trust a test CA.
	ACMEHTTPClient *http.Client

	// CertFile and KeyFile are PEM files of the certificate chain and key.
	CertFile, KeyFile string

	Logger *slog.Logger
}

// HTTPS is what a TLS-serving process needs: the configuration for the TLS
// listener and the handler for the plain-HTTP one.
type HTTPS struct {
	// TLSConfig is for the main listener.
	TLSConfig *tls.Config
	// HTTPHandler is for the plain-HTTP listener: it answers ACME HTTP-01
	// challenges and redirects everything else to HTTPS.
	HTTPHandler http.Handler
	// Manager is the ACME certificate manager; nil with certificate files.
	Manager *autocert.Manager
	// Certs serves the certificate files; nil with ACME.
	Certs *CertFile
}

// NewHTTPS sets up HTTPS as o says. With certificate files it reads them
// now, so that a mistake stops start-up rather than the first handshake.
func NewHTTPS(o Options) (*HTTPS, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	base, err := url.Parse(o.BaseURL)
	if err != nil || base.Scheme != "https" || base.Host == "" {
		return nil, fmt.Errorf("the base URL %q must be an https:// URL when TLS is on", o.BaseURL)
	}
	h := &HTTPS{TLSConfig: TLSConfig()}
	switch {
	case len(o.Domains) > 0 && (o.CertFile != "" || o.KeyFile != ""):
		return nil, errors.New("automatic certificates (domains) and certificate files are mutually exclusive: choose one")
	case len(o.Domains) > 0:
		if o.ACMECache == nil {
			return nil, errors.New("automatic certificates need a cache: the database or a directory")
		}
		h.Manager = NewACMEManager(o)
		h.TLSConfig.GetCertificate = logACME(h.Manager, o.Domains, log)
		// TLS-ALPN-01: the CA's validator asks for this protocol.
		h.TLSConfig.NextProtos = append(h.TLSConfig.NextProtos, acme.ALPNProto)
		h.HTTPHandler = h.Manager.HTTPHandler(RedirectHandler(base, o.Domains))
	case o.CertFile != "" && o.KeyFile != "":
		h.Certs, err = LoadCertFile(o.CertFile, o.KeyFile, log)
		if err != nil {
			return nil, err
		}
		leaf := h.Certs.Leaf()
		if time.Now().After(leaf.NotAfter) {
			log.Warn("the TLS certificate has expired; browsers will refuse the site until it is renewed", "file", o.CertFile, "not_after", leaf.NotAfter)
		}
		if err := leaf.VerifyHostname(base.Hostname()); err != nil {
			log.Warn("the TLS certificate does not cover the base URL's host; browsers will warn", "file", o.CertFile, "host", base.Hostname())
		}
		h.TLSConfig.GetCertificate = h.Certs.GetCertificate
		h.HTTPHandler = RedirectHandler(base, nil)
	default:
		return nil, errors.New("TLS needs either domains for automatic certificates or both a certificate and a key file")
	}
	return h, nil
}

// logACME wraps the manager's GetCertificate so that operators see in the
// log when a certificate for one of our domains is first served or renewed,
// and why one could not be obtained. net/http would log such failures only
// as handshake errors, which scanners cause all day. Names we do not serve
// (scanners again) are not logged.
func logACME(m *autocert.Manager, domains []string, log *slog.Logger) func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	ours := map[string]bool{}
	for _, d := range domains {
		ours[strings.ToLower(d)] = true
	}
	var mu sync.Mutex
	serving := map[string]string{} // domain+key type -> serial number served
	return func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
		cert, err := m.GetCertificate(hello)
		name := strings.ToLower(strings.TrimSuffix(hello.ServerName, "."))
		if !ours[name] {
			return cert, err
		}
		if err != nil {
			log.Warn("cannot get a TLS certificate", "domain", name, "err", err)
			return cert, err
		}
		if cert.Leaf == nil || (len(hello.SupportedProtos) == 1 && hello.SupportedProtos[0] == acme.ALPNProto) {
			return cert, nil
		}
		key := name + "/" + fmt.Sprintf("%T", cert.PrivateKey)
		serial := cert.Leaf.SerialNumber.String()
		mu.Lock()
		changed := serving[key] != serial
		serving[key] = serial
		mu.Unlock()
		if changed {
			log.Info("serving TLS certificate", "domain", name, "issuer", cert.Leaf.Issuer.CommonName, "not_after", cert.Leaf.NotAfter)
		}
		return cert, nil
	}
}

// NewACMEManager returns the autocert manager for o.Domains: certificates
// only for those names, stored in o.ACMECache, from o.ACMEDirectory.
func NewACMEManager(o Options) *autocert.Manager {
	dir := o.ACMEDirectory
	if dir == "" {
		dir = autocert.DefaultACMEDirectory
	}
	return &autocert.Manager{
		Prompt:     autocert.AcceptTOS,
		HostPolicy: autocert.HostWhitelist(o.Domains...),
		Cache:      o.ACMECache,
		Email:      o.ACMEEmail,
		Client:     &acme.Client{DirectoryURL: dir, HTTPClient: o.ACMEHTTPClient, UserAgent: "storekeep"},
	}
}

// RedirectHandler sends every request to the same path and query over
// HTTPS: 301 for GET and HEAD, 308 for other methods (so that the method and
// body are kept). The host is the request's when it is the base URL's host
// or one of hosts, otherwise the base URL's, so that a forged Host header
// cannot send visitors elsewhere; the port is the base URL's.
func RedirectHandler(base *url.URL, hosts []string) http.Handler {
	known := map[string]bool{strings.ToLower(base.Hostname()): true}
	for _, h := range hosts {
		known[strings.ToLower(strings.TrimSuffix(h, "."))] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		host = strings.ToLower(strings.TrimSuffix(host, "."))
		if !known[host] {
			host = strings.ToLower(base.Hostname())
		}
		if p := base.Port(); p != "" && p != "443" {
			host = net.JoinHostPort(host, p)
		} else if strings.Contains(host, ":") {
			host = "[" + host + "]" // IPv6 literal
		}
		// Only the path and query come from the request. RequestURI() would
		// carry an absolute request target ("GET a:@evil.test/x") into the
		// Location header and send the client to another host.
		target := (&url.URL{Scheme: "https", Host: host, Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery}).String()
		code := http.StatusPermanentRedirect
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			code = http.StatusMovedPermanently
		}
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, target, code)
	})
}
