package licensing_test

import (
	"context"
	"crypto/ed25519"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/testutil"
)

func benchPayload() licensing.Payload {
	return licensing.Payload{License: "lic_" + strings.Repeat("a", 26), Product: "mailguard", Edition: "pro",
		Entitlements: []string{"dkim", "malware-scan"}, IssuedAt: 1768469400, Expires: 1800005400, UpdatesUntil: 1800005400, MaxMachines: 3}
}

// BenchmarkMakeKey: encoding and signing a key.
func BenchmarkMakeKey(b *testing.B) {
	k := testKeys(5)
	p := benchPayload()
	for b.Loop() {
		if _, err := licensing.MakeKey(k.Signer(), p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseKey: splitting, decoding, verifying and parsing a key.
func BenchmarkParseKey(b *testing.B) {
	k := testKeys(5)
	key, _ := licensing.MakeKey(k.Signer(), benchPayload())
	for b.Loop() {
		if _, err := licensing.ParseKey(k, key); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEd25519Verify: the raw signature check of the same key's
// payload, the floor ParseKey is measured against.
func BenchmarkEd25519Verify(b *testing.B) {
	k := testKeys(5)
	key, _ := licensing.MakeKey(k.Signer(), benchPayload())
	parts := strings.Split(key, ".")
	raw := mustDecode(b, parts[1])
	sig := mustDecode(b, parts[2])
	msg := append([]byte("storekeep-license-key-v1\x00"), raw...)
	pub, _ := k.PublicKey(k.ActiveKID())
	for b.Loop() {
		if !ed25519.Verify(pub, msg, sig) {
			b.Fatal("does not verify")
		}
	}
}

// BenchmarkValidate: Validate of one key with a machine, on SQLite, in
// parallel (the domain's share of the API's validate).
func BenchmarkValidate(b *testing.B) {
	d := testutil.SQLite(b)
	f := newFixture(b, d)
	l := f.issue(b, f.pro, false, 1)
	ctx := context.Background()
	if _, err := licensing.Activate(ctx, d, f.keys, l.Key, licensing.MachineInfo{Fingerprint: "m"}, t0); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r, err := licensing.Validate(ctx, d, f.keys, licensing.Check{Key: l.Key, Fingerprint: "m", Product: "milter"}, t0)
			if err != nil || r.Code != licensing.CodeValid {
				b.Fatal(r.Code, err)
			}
		}
	})
}
