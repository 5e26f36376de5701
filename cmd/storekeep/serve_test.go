package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeHTTPSFromFiles runs 'storekeep serve' with a certificate and key
// from files, as an operator would, and checks the TLS listener, the
// plain-HTTP redirect and HSTS.
func TestServeHTTPSFromFiles(t *testing.T) {
	dir := t.TempDir()
	certPath, keyPath, cert := writeSelfSigned(t, dir)
	port, httpPort := freeTCPPort(t), freeTCPPort(t)
	base := fmt.Sprintf("https://localhost:%d", port)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	root := rootCommand()
	root.SetOut(io.Discard)
	root.SetArgs([]string{"serve",
		"--addr", fmt.Sprintf("127.0.0.1:%d", port), "--http-addr", fmt.Sprintf("127.0.0.1:%d", httpPort),
		"--tls-cert", certPath, "--tls-key", keyPath, "--base-url", base,
		"--db", filepath.Join(dir, "sk.db"), "--data-dir", dir, "--log-level", "warn"})
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()

	roots := x509.NewCertPool()
	roots.AddCert(cert)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	dial := func(c *tls.Config) (*tls.Conn, error) {
		c.RootCAs, c.ServerName = roots, "localhost"
		return tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, c)
	}
	waitServing(t, done, 15*time.Second, "no TLS handshake", func() error {
		conn, err := dial(&tls.Config{})
		if err != nil {
			return err
		}
		if v := conn.ConnectionState().Version; v < tls.VersionTLS12 {
			t.Errorf("negotiated %s, want TLS 1.2 or later", tls.VersionName(v))
		}
		return conn.Close()
	})

	if conn, err := dial(&tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}); err == nil {
		conn.Close()
		t.Error("a TLS 1.1 handshake succeeded")
	}

	client := &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: roots},
			DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
				if strings.HasPrefix(a, "localhost:") {
					a = "127.0.0.1" + strings.TrimPrefix(a, "localhost")
				}
				return (&net.Dialer{}).DialContext(ctx, network, a)
			},
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
		t.Errorf("GET /healthz over HTTPS: %d, TLS %v", resp.StatusCode, resp.TLS != nil)
	}
	if hsts := resp.Header.Get("Strict-Transport-Security"); !strings.Contains(hsts, "max-age=") {
		t.Errorf("no HSTS over HTTPS: %q", hsts)
	}

	for _, method := range []string{"GET", "POST"} {
		req, _ := http.NewRequest(method, fmt.Sprintf("http://127.0.0.1:%d/products/quillguard?edition=pro&q=a%%20b", httpPort), nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want, code := base+"/products/quillguard?edition=pro&q=a%20b", http.StatusMovedPermanently
		if method == "POST" {
			code = http.StatusPermanentRedirect
		}
		if resp.StatusCode != code || resp.Header.Get("Location") != want {
			t.Errorf("%s over plain HTTP = %d to %q, want %d to %q", method, resp.StatusCode, resp.Header.Get("Location"), code, want)
		}
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve did not shut down cleanly: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop within 15s of cancellation")
	}
}

func TestServeTLSSettingsSayWhatToDo(t *testing.T) {
	dir := t.TempDir()
	certPath, keyPath, _ := writeSelfSigned(t, dir)
	db := filepath.Join(dir, "sk.db")
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{args: []string{"--tls-cert", certPath}, want: "--tls-cert given without --tls-key"},
		{args: []string{"--tls-key", keyPath}, want: "--tls-key given without --tls-cert"},
		{args: []string{"--tls-domains", "shop.example.com", "--tls-cert", certPath, "--tls-key", keyPath}, want: "mutually exclusive"},
		{args: []string{"--tls-cert", certPath, "--tls-key", keyPath, "--base-url", "http://shop.example.com"}, want: "use https://shop.example.com"},
		{args: []string{"--tls-domains", "https://shop.example.com"}, want: "without scheme, port or path"},
		{args: []string{"--tls-domains", "*.example.com"}, want: "wildcard"},
		{args: []string{"--tls-domains", "shop"}, want: "not a valid host name"},
		{args: []string{"--tls-domains", "shop.example.com", "--base-url", "https://www.example.com"}, want: "not among --tls-domains"},
		{args: []string{"--tls-domains", "shop.example.com", "--acme-directory", "http://ca.internal/dir"}, want: "not an https:// URL"},
		{args: []string{"--tls-domains", "shop.example.com", "--acme-cache", certPath}, want: "is a file, not a directory"},
		{args: []string{"--tls-domains", "shop.example.com", "--acme-email", "ops"}, want: "not one email address"},
		{args: []string{"--tls-domains", "shop.example.com", "--addr", ":8443", "--http-addr", ":8443"}, want: "need different ports"},
		{args: []string{"--http-addr", ":80"}, want: "only used with TLS"},
		{args: []string{"--trusted-proxies", "10.0.0.0/33"}, want: "--trusted-proxies: \"10.0.0.0/33\" is not a CIDR block"},
		{env: map[string]string{"STOREKEEP_TRUSTED_PROXIES": "proxy.internal"}, want: "neither an IP address nor a CIDR block"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			args := append([]string{"serve", "--db", db}, tc.args...)
			_, err := execute(t, context.Background(), args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
			if _, ok := err.(usageError); !ok {
				t.Errorf("not a usage error: %T", err)
			}
		})
	}
	t.Run("certificate that cannot be loaded", func(t *testing.T) {
		_, err := execute(t, context.Background(), "serve", "--db", db, "--addr", "127.0.0.1:0", "--http-addr", "",
			"--tls-cert", keyPath, "--tls-key", keyPath, "--base-url", "https://localhost")
		if err == nil || !strings.Contains(err.Error(), "give a PEM certificate chain") {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestConfigTLSDefaults checks the defaults that TLS implies, through the
// environment as a container would set them.
func TestConfigTLSDefaults(t *testing.T) {
	t.Setenv("STOREKEEP_TLS_DOMAINS", "Shop.Example.com, www.example.com")
	t.Setenv("STOREKEEP_TRUSTED_PROXIES", "10.0.0.0/8")
	settings := func(args ...string) map[string]string {
		t.Helper()
		out, err := execute(t, context.Background(), append([]string{"config", "--db", filepath.Join(t.TempDir(), "sk.db")}, args...)...)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, line := range strings.Split(out, "\n") {
			if f := strings.Fields(line); len(f) == 3 {
				m[f[0]] = f[1]
			} else if len(f) == 2 {
				m[f[0]] = ""
			}
		}
		return m
	}
	got := settings()
	for flag, want := range map[string]string{
		"--addr": ":443", "--http-addr": ":80", "--base-url": "https://shop.example.com",
		"--tls-domains": "shop.example.com,www.example.com", "--trusted-proxies": "10.0.0.0/8",
		"--acme-cache": "db", "--acme-directory": "https://acme-v02.api.letsencrypt.org/directory",
	} {
		if got[flag] != want {
			t.Errorf("%s = %q, want %q", flag, got[flag], want)
		}
	}
	// Explicit values win; an empty --http-addr turns the redirect off.
	got = settings("--addr", ":8443", "--http-addr", "")
	if got["--addr"] != ":8443" || got["--http-addr"] != "" || got["--base-url"] != "https://shop.example.com" {
		t.Errorf("explicit --addr/--http-addr not kept: %v", got)
	}
}

func writeSelfSigned(t *testing.T, dir string) (certPath, keyPath string, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "localhost"},
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	if cert, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certPath, keyPath, cert
}

func freeTCPPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
