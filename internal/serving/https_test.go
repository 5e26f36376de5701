package serving

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/acme/autocert"
)

// TestServeTLSFromFiles runs the real listeners with a certificate from
// files and checks what clients can negotiate.
func TestServeTLSFromFiles(t *testing.T) {
	dir := t.TempDir()
	certPath, keyPath, cert := selfSigned(t, dir, "", "localhost", "127.0.0.1")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	httpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "https://localhost:" + fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
	h, err := NewHTTPS(Options{BaseURL: base, CertFile: certPath, KeyFile: keyPath})
	if err != nil {
		t.Fatal(err)
	}
	site := ClientIPMiddleware(nil)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "https=%v client=%v", IsHTTPS(r), ClientIP(r))
	}))
	s := &Server{Handler: site, TLSConfig: h.TLSConfig, RedirectHandler: h.HTTPHandler}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln, httpLn) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve after cancel: %v", err)
		}
	}()

	roots := x509.NewCertPool()
	roots.AddCert(cert)
	dial := func(c *tls.Config) (*tls.Conn, error) {
		c.RootCAs, c.ServerName = roots, "localhost"
		return tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", ln.Addr().String(), c)
	}

	t.Run("default client", func(t *testing.T) {
		conn, err := dial(&tls.Config{})
		if err != nil {
			t.Fatalf("handshake: %v", err)
		}
		defer conn.Close()
		if v := conn.ConnectionState().Version; v < tls.VersionTLS12 {
			t.Errorf("negotiated %s, want TLS 1.2 or later", tls.VersionName(v))
		}
	})
	t.Run("TLS 1.2 with AEAD", func(t *testing.T) {
		conn, err := dial(&tls.Config{MaxVersion: tls.VersionTLS12})
		if err != nil {
			t.Fatalf("handshake: %v", err)
		}
		defer conn.Close()
		st := conn.ConnectionState()
		if st.Version != tls.VersionTLS12 || !strings.Contains(tls.CipherSuiteName(st.CipherSuite), "GCM") && !strings.Contains(tls.CipherSuiteName(st.CipherSuite), "CHACHA20") {
			t.Errorf("negotiated %s %s", tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite))
		}
	})
	for name, c := range map[string]*tls.Config{
		"TLS 1.1":            {MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11},
		"TLS 1.0":            {MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS10},
		"TLS 1.2 CBC only":   {MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256}},
		"TLS 1.2 P-384 only": {MaxVersion: tls.VersionTLS12, CurvePreferences: []tls.CurveID{tls.CurveP384}},
	} {
		t.Run("refuses "+name, func(t *testing.T) {
			conn, err := dial(c)
			if err == nil {
				st := conn.ConnectionState()
				conn.Close()
				t.Fatalf("handshake succeeded with %s %s", tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite))
			}
		})
	}
	t.Run("HTTP/2 and the site", func(t *testing.T) {
		client := &http.Client{Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{RootCAs: roots},
			ForceAttemptHTTP2: true,
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, ln.Addr().String())
			},
		}}
		defer client.CloseIdleConnections()
		resp, err := client.Get(base + "/")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.ProtoMajor != 2 || string(body) != "https=true client=127.0.0.1" {
			t.Errorf("%s: %q, want HTTP/2 with https=true client=127.0.0.1", resp.Proto, body)
		}
	})
	t.Run("plain HTTP redirects", func(t *testing.T) {
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Get("http://" + httpLn.Addr().String() + "/products/quillguard?edition=pro&x=%2F")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if want := base + "/products/quillguard?edition=pro&x=%2F"; resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != want {
			t.Errorf("GET = %d to %q, want 301 to %q", resp.StatusCode, resp.Header.Get("Location"), want)
		}
	})
}

func TestRedirectHandler(t *testing.T) {
	for _, tc := range []struct {
		base, method, host, target string
		hosts                      []string
		wantCode                   int
		wantLocation               string
	}{
		{base: "https://shop.example.com", method: "GET", host: "shop.example.com", target: "/a/b?c=d&e=f",
			wantCode: 301, wantLocation: "https://shop.example.com/a/b?c=d&e=f"},
		{base: "https://shop.example.com", method: "HEAD", host: "shop.example.com:80", target: "/",
			wantCode: 301, wantLocation: "https://shop.example.com/"},
		{base: "https://shop.example.com", method: "POST", host: "shop.example.com", target: "/api/v1/licenses/validate",
			wantCode: 308, wantLocation: "https://shop.example.com/api/v1/licenses/validate"},
		{base: "https://shop.example.com", method: "GET", host: "evil.example", target: "/x",
			wantCode: 301, wantLocation: "https://shop.example.com/x"},
		{base: "https://shop.example.com", method: "GET", host: "www.example.com", target: "/x", hosts: []string{"shop.example.com", "www.example.com"},
			wantCode: 301, wantLocation: "https://www.example.com/x"},
		{base: "https://shop.example.com:8443", method: "GET", host: "SHOP.example.com:8080", target: "/x?y",
			wantCode: 301, wantLocation: "https://shop.example.com:8443/x?y"},
		{base: "https://[2001:db8::1]", method: "GET", host: "[2001:db8::1]", target: "/",
			wantCode: 301, wantLocation: "https://[2001:db8::1]/"},
		{base: "https://shop.example.com", method: "GET", host: "shop.example.com", target: "//evil.example/x",
			wantCode: 301, wantLocation: "https://shop.example.com//evil.example/x"},
	} {
		t.Run(tc.method+" "+tc.host+tc.target, func(t *testing.T) {
			base, _ := url.Parse(tc.base)
			r := httptest.NewRequest(tc.method, "http://placeholder"+tc.target, nil)
			r.Host = tc.host
			w := httptest.NewRecorder()
			RedirectHandler(base, tc.hosts).ServeHTTP(w, r)
			if w.Code != tc.wantCode || w.Header().Get("Location") != tc.wantLocation {
				t.Errorf("= %d %q, want %d %q", w.Code, w.Header().Get("Location"), tc.wantCode, tc.wantLocation)
			}
		})
	}
}

func TestACMEHTTPListenerAnswersChallengesAndRedirects(t *testing.T) {
	h, err := NewHTTPS(Options{BaseURL: "https://shop.example.com", Domains: []string{"shop.example.com"}, ACMECache: autocert.DirCache(t.TempDir())})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(h.TLSConfig.NextProtos, "acme-tls/1") {
		t.Errorf("NextProtos = %v, want acme-tls/1 for TLS-ALPN-01", h.TLSConfig.NextProtos)
	}
	// A challenge path is autocert's (404 for an unknown token), not a redirect.
	r := httptest.NewRequest("GET", "http://shop.example.com/.well-known/acme-challenge/unknown-token", nil)
	w := httptest.NewRecorder()
	h.HTTPHandler.ServeHTTP(w, r)
	if w.Code != http.StatusNotFound {
		t.Errorf("unknown challenge token: %d, want 404", w.Code)
	}
	r = httptest.NewRequest("GET", "http://shop.example.com/pricing?a=1", nil)
	w = httptest.NewRecorder()
	h.HTTPHandler.ServeHTTP(w, r)
	if w.Code != http.StatusMovedPermanently || w.Header().Get("Location") != "https://shop.example.com/pricing?a=1" {
		t.Errorf("ordinary request: %d %q, want a 301 to https", w.Code, w.Header().Get("Location"))
	}
}

func TestNewHTTPSRejectsMistakes(t *testing.T) {
	dir := t.TempDir()
	certPath, keyPath, _ := selfSigned(t, dir, "a-", "localhost")
	_, otherKey, _ := selfSigned(t, dir, "b-", "localhost")
	for _, tc := range []struct {
		name string
		o    Options
		want string
	}{
		{"http base URL", Options{BaseURL: "http://shop.example.com", CertFile: certPath, KeyFile: keyPath}, "must be an https:// URL"},
		{"both modes", Options{BaseURL: "https://localhost", Domains: []string{"localhost.test"}, CertFile: certPath, KeyFile: keyPath, ACMECache: autocert.DirCache(t.TempDir())}, "mutually exclusive"},
		{"neither", Options{BaseURL: "https://localhost"}, "either domains"},
		{"key of another certificate", Options{BaseURL: "https://localhost", CertFile: certPath, KeyFile: otherKey}, "private key that belongs to it"},
		{"missing file", Options{BaseURL: "https://localhost", CertFile: dir + "/nope.pem", KeyFile: keyPath}, "--tls-cert"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewHTTPS(tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// TestCertFileReload replaces the certificate files and checks that the
// new certificate is served once the check interval has passed, and that a
// broken replacement keeps the old one.
func TestCertFileReload(t *testing.T) {
	dir := t.TempDir()
	certPath, keyPath, first := selfSigned(t, dir, "", "localhost")
	cf, err := LoadCertFile(certPath, keyPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	cf.now = func() time.Time { return now }
	serial := func() string {
		c, err := cf.GetCertificate(&tls.ClientHelloInfo{ServerName: "localhost"})
		if err != nil {
			t.Fatal(err)
		}
		return c.Leaf.SerialNumber.String()
	}
	if serial() != first.SerialNumber.String() {
		t.Fatal("not serving the loaded certificate")
	}

	// A renewal written by another tool: new files, newer mtimes.
	newCert, newKey, second := selfSigned(t, dir, "new-", "localhost")
	replace := func(src, dst string, mtime time.Time) {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(dst, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	later := time.Now().Add(time.Hour)
	replace(newCert, certPath, later)
	replace(newKey, keyPath, later)
	now = now.Add(30 * time.Second)
	if serial() != first.SerialNumber.String() {
		t.Fatal("reloaded before the check interval passed")
	}
	now = now.Add(31 * time.Second)
	if serial() != second.SerialNumber.String() {
		t.Fatal("did not reload the changed files after a minute")
	}

	// A broken replacement (certificate without its key): keep serving.
	_, _, _ = selfSigned(t, dir, "third-", "localhost")
	replace(dir+"/third-cert.pem", certPath, later.Add(time.Hour))
	now = now.Add(2 * time.Minute)
	if serial() != second.SerialNumber.String() {
		t.Fatal("a mismatched certificate replaced the working one")
	}
	// The matching key arrives: picked up at the next check.
	replace(dir+"/third-key.pem", keyPath, later.Add(time.Hour))
	now = now.Add(2 * time.Minute)
	if got := serial(); got == second.SerialNumber.String() || got == first.SerialNumber.String() {
		t.Fatal("did not load the repaired files")
	}
}

// TestACMEFailureIsLogged: when no certificate can be had for one of our
// domains (here: the CA is unreachable), the log says so, since net/http
// would report it only as a handshake error.
func TestACMEFailureIsLogged(t *testing.T) {
	var logged syncBuffer
	h, err := NewHTTPS(Options{
		BaseURL: "https://shop.test", Domains: []string{"shop.test"},
		ACMEDirectory: "https://127.0.0.1:1/dir", ACMECache: autocert.DirCache(t.TempDir()),
		Logger: slog.New(slog.NewTextHandler(&logged, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.TLSConfig.GetCertificate(&tls.ClientHelloInfo{ServerName: "shop.test"}); err == nil {
		t.Fatal("got a certificate from an unreachable CA")
	}
	if !strings.Contains(logged.String(), `msg="cannot get a TLS certificate" domain=shop.test`) {
		t.Errorf("failure not logged: %q", logged.String())
	}
}

// TestRedirectIgnoresAbsoluteRequestTargets: an absolute-form request
// target ("GET a:@evil.test/x HTTP/1.1", which Go's server accepts) must
// not smuggle another host into the Location header.
func TestRedirectIgnoresAbsoluteRequestTargets(t *testing.T) {
	base, _ := url.Parse("https://shop.example.com")
	for _, raw := range []string{
		"GET a:@evil.test/x HTTP/1.1\r\nHost: shop.example.com\r\n\r\n",
		"GET http://evil.test/x?y=1 HTTP/1.1\r\nHost: shop.example.com\r\n\r\n",
	} {
		r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
		if err != nil {
			t.Fatal(err)
		}
		w := httptest.NewRecorder()
		RedirectHandler(base, nil).ServeHTTP(w, r)
		loc, err := url.Parse(w.Header().Get("Location"))
		if err != nil || loc.Host != "shop.example.com" || loc.User != nil {
			t.Errorf("%q redirected to %q", strings.SplitN(raw, "\r\n", 2)[0], w.Header().Get("Location"))
		}
	}
}
