package license_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	license "github.com/storekeep/storekeep/sdk/go"
	"github.com/storekeep/storekeep/sdk/go/licensetest"
)

// The seed corpora are in testdata/fuzz; run for longer with
//
//	go test -run '^$' -fuzz FuzzVerifyKey -fuzztime 30s .
//	go test -run '^$' -fuzz FuzzVerifyFile -fuzztime 30s .

var fuzzVerifier = licensetest.NewIssuerWith(licensetest.TestKey(0), licensetest.TestKey(1)).Verifier()

func FuzzVerifyKey(f *testing.F) {
	iss := licensetest.NewIssuer()
	f.Add(iss.Key(baseSpec))
	f.Add("SK1.e30.AAAA")
	f.Fuzz(func(t *testing.T, key string) {
		l, err := fuzzVerifier.VerifyKey(key)
		if err != nil {
			if license.CodeOf(err) == "" {
				t.Fatalf("error without a code: %v", err)
			}
			if l.ID != "" {
				t.Fatal("a refused key returned a license")
			}
			return
		}
		// Accepted: the signature must verify by crypto/ed25519 alone over the exact bytes.
		parts := strings.Split(strings.TrimSpace(key), ".")
		payload, err1 := base64.RawURLEncoding.DecodeString(parts[1])
		sig, err2 := base64.RawURLEncoding.DecodeString(parts[2])
		pub, ok := fuzzVerifier.PublicKey(l.KeyID)
		if len(parts) != 3 || parts[0] != "SK1" || err1 != nil || err2 != nil || !ok ||
			!ed25519.Verify(pub, append([]byte("storekeep-license-key-v1\x00"), payload...), sig) || l.Version != 1 {
			t.Fatalf("accepted a key that does not verify: %q", key)
		}
	})
}

func FuzzVerifyFile(f *testing.F) {
	iss := licensetest.NewIssuer()
	key := iss.Key(baseSpec)
	f.Add(iss.File(licensetest.FileSpec{Key: key, License: baseSpec, IssuedAt: t0, ExpiresAt: t0.AddDate(0, 1, 0), Fingerprint: "m"}), "m", t0.Unix())
	f.Add([]byte("-----BEGIN STOREKEEP LICENSE FILE-----\nSKF1.e30.AAAA\n-----END STOREKEEP LICENSE FILE-----\n"), "", int64(0))
	f.Fuzz(func(t *testing.T, file []byte, fp string, now int64) {
		l, err := fuzzVerifier.VerifyFile(file, fp, time.Unix(now, 0))
		if err != nil {
			if license.CodeOf(err) == "" {
				t.Fatalf("error without a code: %v", err)
			}
			return
		}
		if l.Code != license.CodeValid && l.Code != license.CodeInGrace {
			t.Fatalf("accepted with code %s", l.Code)
		}
		if l.FingerprintSHA256 != "" && !strings.EqualFold(l.FingerprintSHA256, license.FingerprintHash(fp)) {
			t.Fatal("accepted a file bound to another machine")
		}
		if time.Unix(now, 0).After(l.FileExpiresAt) {
			t.Fatal("accepted an expired file")
		}
		if _, err := fuzzVerifier.VerifyKey(l.Key); err != nil {
			t.Fatal("accepted a file whose key does not verify")
		}
	})
}
