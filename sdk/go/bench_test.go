package license_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"slices"
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

// BenchmarkVerifyKeyRatio times VerifyKey and ed25519.Verify on the same key in pairs, one
// right after the other (in alternating order), so that a noisy machine slows both alike. It
// reports the ratio of the sums ("ratio") and the median of the per-pair ratios
// ("median-ratio"), the figure to compare with the target of at most 1.15.
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
	var sdk, raw time.Duration
	var ratios []float64
	sdkOnce := func() time.Duration {
		start := time.Now()
		if _, err := v.VerifyKey(key); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	rawOnce := func() time.Duration {
		start := time.Now()
		if !ed25519.Verify(pub, msg, sig) {
			b.Fatal("no")
		}
		return time.Since(start)
	}
	n := 0
	for b.Loop() {
		var s, r time.Duration
		if n%2 == 0 {
			s, r = sdkOnce(), rawOnce()
		} else {
			r, s = rawOnce(), sdkOnce()
		}
		n++
		sdk += s
		raw += r
		ratios = append(ratios, float64(s)/float64(r))
	}
	slices.Sort(ratios)
	b.ReportMetric(float64(sdk)/float64(raw), "ratio")
	b.ReportMetric(ratios[len(ratios)/2], "median-ratio")
	b.ReportMetric(float64(sdk.Nanoseconds())/float64(n), "verifykey-ns/op")
	b.ReportMetric(float64(raw.Nanoseconds())/float64(n), "ed25519-ns/op")
}
