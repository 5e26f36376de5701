package serving

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/testutil"
)

// PebbleInstall is how CI and developers install the ACME test server.
const pebbleInstall = "go install github.com/letsencrypt/pebble/v2/cmd/pebble@v2.10.1"

// TestACMEWithPebble obtains a certificate from Pebble, Let's Encrypt's
// ACME test server, through the same autocert manager serve uses, with the
// database cache; then a second manager sharing the database (a second
// instance) gets the certificate from the cache without asking the CA.
//
// Pebble runs with PEBBLE_VA_ALWAYS_VALID=1: it accepts the challenges
// without connecting back, since shop.test resolves nowhere. Everything
// else (account, order, authorizations, finalisation, download) is real.
func TestACMEWithPebble(t *testing.T) {
	directory, client, issuerRoots := startPebble(t, nil)

	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		cache := NewDBCache(d, clock.System{})
		var logged syncBuffer
		h, err := NewHTTPS(Options{
			BaseURL:        "https://shop.test",
			Domains:        []string{"shop.test"},
			ACMEEmail:      "ops@shop.test",
			ACMEDirectory:  directory,
			ACMECache:      cache,
			ACMEHTTPClient: client,
			Logger:         slog.New(slog.NewTextHandler(&logged, nil)),
		})
		if err != nil {
			t.Fatal(err)
		}
		hello := &tls.ClientHelloInfo{
			ServerName:        "shop.test",
			CipherSuites:      []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
			SupportedCurves:   []tls.CurveID{tls.X25519, tls.CurveP256},
			SignatureSchemes:  []tls.SignatureScheme{tls.ECDSAWithP256AndSHA256},
			SupportedVersions: []uint16{tls.VersionTLS13, tls.VersionTLS12},
		}
		start := time.Now()
		cert, err := h.TLSConfig.GetCertificate(hello)
		if err != nil {
			t.Fatalf("obtain a certificate from pebble: %v", err)
		}
		if !strings.Contains(logged.String(), `msg="serving TLS certificate" domain=shop.test`) {
			t.Errorf("the new certificate was not logged: %s", logged.String())
		}
		leaf := leafOf(t, cert)
		if !slices.Equal(leaf.DNSNames, []string{"shop.test"}) {
			t.Errorf("certificate names = %v, want [shop.test]", leaf.DNSNames)
		}
		intermediates := x509.NewCertPool()
		for _, der := range cert.Certificate[1:] {
			c, err := x509.ParseCertificate(der)
			if err != nil {
				t.Fatal(err)
			}
			intermediates.AddCert(c)
		}
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "shop.test", Roots: issuerRoots, Intermediates: intermediates}); err != nil {
			t.Errorf("the served chain does not verify up to pebble's root: %v", err)
		}
		t.Logf("issued in %v, serial %x, valid until %v", time.Since(start).Round(time.Millisecond), leaf.SerialNumber, leaf.NotAfter)

		// Stored in the database: the account key and the certificate.
		for _, key := range []string{"acme_account+key", "shop.test"} {
			data, err := cache.Get(ctx, key)
			if err != nil || len(data) == 0 {
				t.Errorf("cache key %q after issuance: %d bytes, %v", key, len(data), err)
			}
		}
		if data, _ := cache.Get(ctx, "shop.test"); !bytes.Contains(data, []byte("PRIVATE KEY")) || !bytes.Contains(data, []byte("CERTIFICATE")) {
			t.Error("cached entry lacks the key or the certificate")
		}

		// A second instance: same database, and a client that fails the
		// test if it is used at all.
		var calls atomic.Int32
		offline := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			calls.Add(1)
			return nil, errors.New("the second instance must not contact the CA")
		})}
		m2 := NewACMEManager(Options{
			Domains: []string{"shop.test"}, ACMEDirectory: directory, ACMECache: NewDBCache(d, clock.System{}), ACMEHTTPClient: offline,
		})
		cert2, err := m2.GetCertificate(hello)
		if err != nil {
			t.Fatalf("second instance: %v", err)
		}
		if leafOf(t, cert2).SerialNumber.Cmp(leaf.SerialNumber) != 0 {
			t.Error("second instance serves a different certificate than the one in the database")
		}
		if n := calls.Load(); n != 0 {
			t.Errorf("second instance made %d requests to the CA", n)
		}

		// The host policy holds: no certificate for names not configured.
		before := logged.String()
		if _, err := h.TLSConfig.GetCertificate(&tls.ClientHelloInfo{ServerName: "other.test"}); err == nil || !strings.Contains(err.Error(), "not configured") {
			t.Errorf("certificate for an unlisted name: err = %v, want a host policy refusal", err)
		}
		if _, err := h.TLSConfig.GetCertificate(hello); err != nil {
			t.Fatal(err)
		}
		if logged.String() != before {
			t.Errorf("logged a scanner's name or the same certificate again: %s", strings.TrimPrefix(logged.String(), before))
		}
	})
}

// startPebble runs Pebble, with extra settings over the defaults below,
// until the test ends, and returns its directory URL, a client that
// trusts its HTTPS certificate and the root it issues under (made up at
// its start).
func startPebble(t *testing.T, extra map[string]any) (directory string, client *http.Client, issuerRoots *x509.CertPool) {
	t.Helper()
	pebble := findPebble(t)
	dir := t.TempDir()
	// Pebble's own HTTPS certificate: ours, so the client can trust it
	// without reaching into the module cache for Pebble's test root.
	certPath, keyPath, pebbleCert := selfSigned(t, dir, "pebble-", "127.0.0.1", "localhost")
	port, mgmtPort := freePort(t), freePort(t)
	settings := map[string]any{
		"listenAddress":           fmt.Sprintf("127.0.0.1:%d", port),
		"managementListenAddress": fmt.Sprintf("127.0.0.1:%d", mgmtPort),
		"certificate":             certPath,
		"privateKey":              keyPath,
		"httpPort":                freePort(t),
		"tlsPort":                 freePort(t),
		"keyAlgorithm":            "ecdsa",
		"retryAfter":              map[string]int{"authz": 1, "order": 1},
	}
	for k, v := range extra {
		settings[k] = v
	}
	cfg := map[string]any{"pebble": settings}
	b, _ := json.Marshal(cfg)
	cfgPath := filepath.Join(dir, "pebble.json")
	if err := os.WriteFile(cfgPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd := exec.Command(pebble, "-config", cfgPath)
	cmd.Env = append(os.Environ(), "PEBBLE_VA_ALWAYS_VALID=1", "PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start pebble: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("pebble output:\n%s", out.String())
		}
	})

	roots := x509.NewCertPool()
	roots.AddCert(pebbleCert)
	client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	directory = fmt.Sprintf("https://127.0.0.1:%d/dir", port)
	waitFor(t, client, directory)
	// The root Pebble issues under, made up at its start.
	issuerRoots = x509.NewCertPool()
	resp, err := client.Get(fmt.Sprintf("https://127.0.0.1:%d/roots/0", mgmtPort))
	if err != nil {
		t.Fatal(err)
	}
	rootPEM, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !issuerRoots.AppendCertsFromPEM(rootPEM) {
		t.Fatalf("pebble's root is not PEM: %q", rootPEM)
	}

	return directory, client, issuerRoots
}

// findPebble returns the path of the pebble binary, or skips (fails in CI)
// when it is not installed.
func findPebble(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("pebble"); err == nil {
		return p
	}
	var dirs []string
	if gobin := os.Getenv("GOBIN"); gobin != "" {
		dirs = append(dirs, gobin)
	}
	if out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output(); err == nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(lines) == 2 {
			if lines[0] != "" {
				dirs = append(dirs, lines[0])
			}
			for _, p := range filepath.SplitList(lines[1]) {
				dirs = append(dirs, filepath.Join(p, "bin"))
			}
		}
	}
	for _, d := range dirs {
		p := filepath.Join(d, "pebble")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	if testutil.Required() {
		t.Fatalf("pebble (the ACME test server) is not installed; it is required here. Install it with: %s", pebbleInstall)
	}
	t.Skipf("pebble not installed: skipping the ACME test (install it with: %s)", pebbleInstall)
	return ""
}

func waitFor(t *testing.T, c *http.Client, url string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := c.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("pebble did not answer at %s within 20s: %v", url, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func leafOf(t *testing.T, c *tls.Certificate) *x509.Certificate {
	t.Helper()
	if c.Leaf != nil {
		return c.Leaf
	}
	leaf, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return leaf
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// syncBuffer is a bytes.Buffer safe for a logger and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
