package license_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/sdk/go/licensetest"
)

// BenchmarkVerifyKey and BenchmarkEd25519Verify verify the same key: the SDK's whole
// VerifyKey (split, decode, parse, kid lookup, signature, version) against crypto/ed25519's
// Verify alone over the same signed bytes. The target is at most 1.15x.
//
//	go test -run '^$' -bench 'VerifyKey$|Ed25519Verify$' -benchmem -count 10 .
func BenchmarkVerifyKey(b *testing.B) {
	iss := licensetest.NewIssuer()
	v := iss.Verifier()
	key := iss.Key(baseSpec)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.VerifyKey(key); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEd25519Verify(b *testing.B) {
	iss := licensetest.NewIssuer()
	key := iss.Key(baseSpec)
	parts := strings.Split(key, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	msg := append([]byte("storekeep-license-key-v1\x00"), payload...)
	pub := licensetest.TestKey(0).Public().(ed25519.PublicKey)
	b.ReportAllocs()
	for b.Loop() {
		if !ed25519.Verify(pub, msg, sig) {
			b.Fatal("no")
		}
	}
}

// BenchmarkVerifyKeyRatio alternates batches of VerifyKey and of ed25519.Verify on the same
// key, so that a noisy machine slows both alike, and reports VerifyKey's time over
// ed25519.Verify's as "ratio" (target: at most 1.15).
//
//	go test -run '^$' -bench VerifyKeyRatio -benchtime 20000x -count 5 .
func BenchmarkVerifyKeyRatio(b *testing.B) {
	iss := licensetest.NewIssuer()
	v := iss.Verifier()
	key := iss.Key(baseSpec)
	parts := strings.Split(key, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	msg := append([]byte("storekeep-license-key-v1\x00"), payload...)
	pub := licensetest.TestKey(0).Public().(ed25519.PublicKey)
	const batch = 50
	var sdk, raw time.Duration
	n := 0
	for b.Loop() {
		if n%batch == 0 {
			start := time.Now()
			for range batch {
				if _, err := v.VerifyKey(key); err != nil {
					b.Fatal(err)
				}
			}
			mid := time.Now()
			for range batch {
				if !ed25519.Verify(pub, msg, sig) {
					b.Fatal("no")
				}
			}
			sdk += mid.Sub(start)
			raw += time.Since(mid)
		}
		n++
	}
	b.ReportMetric(float64(sdk)/float64(raw), "ratio")
	b.ReportMetric(float64(sdk.Nanoseconds())/float64(max(n/batch, 1)*batch), "verifykey-ns/op")
	b.ReportMetric(float64(raw.Nanoseconds())/float64(max(n/batch, 1)*batch), "ed25519-ns/op")
}
