package serving

import (
	"crypto/tls"
	"math/big"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/testutil"
)

// TestRenewalOnceAcrossInstances: two instances share the certificate
// through the database cache (PostgreSQL, as several instances run).
// Pebble issues certificates valid for 30 seconds, so autocert's real
// renewal timers fire within the test: instance A's 20 seconds before
// the end, instance B's 5 seconds before. A renews by ordering from the
// CA; when B's timer fires, it finds A's renewed certificate in the
// database and takes it without contacting the CA. One renewal, in
// effect, for both; B never spoke to the CA at all.
//
// (Two timers firing at the same moment would both order; autocert has
// no lock across instances, docs/https.md. The test gives the two
// timers different thresholds so that the order is certain.)
func TestRenewalOnceAcrossInstances(t *testing.T) {
	directory, client, _ := startPebble(t, map[string]any{"profiles": map[string]any{
		"default": map[string]any{"description": "short-lived, for the renewal test", "validityPeriod": 30},
	}})
	d := testutil.Postgres(t)
	a := NewACMEManager(Options{Domains: []string{"shop.test"}, ACMEDirectory: directory, ACMECache: NewDBCache(d, clock.System{}), ACMEHTTPClient: client})
	a.RenewBefore = 20 * time.Second
	var bCalls atomic.Int32
	counting := &http.Client{Timeout: client.Timeout, Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		bCalls.Add(1)
		return client.Transport.RoundTrip(r)
	})}
	b := NewACMEManager(Options{Domains: []string{"shop.test"}, ACMEDirectory: directory, ACMECache: NewDBCache(d, clock.System{}), ACMEHTTPClient: counting})
	b.RenewBefore = 5 * time.Second
	// The managers' renewal loops outlive the test (autocert cannot stop
	// them); once Pebble and the schema are gone they fail and wait.

	hello := &tls.ClientHelloInfo{
		ServerName:        "shop.test",
		CipherSuites:      []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
		SupportedCurves:   []tls.CurveID{tls.X25519, tls.CurveP256},
		SignatureSchemes:  []tls.SignatureScheme{tls.ECDSAWithP256AndSHA256},
		SupportedVersions: []uint16{tls.VersionTLS13, tls.VersionTLS12},
	}
	serial := func(name string, m interface {
		GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error)
	}) *big.Int {
		t.Helper()
		c, err := m.GetCertificate(hello)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return leafOf(t, c).SerialNumber
	}
	first, err := a.GetCertificate(hello)
	if err != nil {
		t.Fatalf("A obtains a certificate: %v", err)
	}
	leaf := leafOf(t, first)
	if life := leaf.NotAfter.Sub(leaf.NotBefore); life > time.Minute {
		t.Fatalf("the certificate is valid for %v: pebble ignored the 30-second profile", life)
	}
	if s := serial("B", b); s.Cmp(leaf.SerialNumber) != 0 || bCalls.Load() != 0 {
		t.Fatalf("B serves %x after %d requests to the CA, want A's %x from the database and none", s, bCalls.Load(), leaf.SerialNumber)
	}

	// Until B's timer has fired (5 s before the first certificate ends,
	// plus its jitter), note every certificate A serves.
	byA := map[string]bool{leaf.SerialNumber.String(): true}
	var bNow *big.Int
	for deadline := leaf.NotAfter.Add(-time.Second); ; time.Sleep(100 * time.Millisecond) {
		byA[serial("A", a).String()] = true
		bNow = serial("B", b)
		if bNow.Cmp(leaf.SerialNumber) != 0 || time.Now().After(deadline) {
			break
		}
	}
	if n := bCalls.Load(); n != 0 {
		t.Fatalf("B made %d requests to the CA; it should have taken A's renewal from the database", n)
	}
	if bNow.Cmp(leaf.SerialNumber) == 0 {
		t.Fatal("B still serves the first certificate a second before it ends: its renewal did not take A's")
	}
	if !byA[bNow.String()] {
		t.Errorf("B serves %x, a certificate A never had", bNow)
	}
	if len(byA) < 2 {
		t.Errorf("A served %d certificates, want the first and its renewal", len(byA))
	}
}
