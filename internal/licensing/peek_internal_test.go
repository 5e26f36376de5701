package licensing

import (
	"crypto/ed25519"
	"testing"
)

// TestPeekLicense: the license id is read from every key MakeKey makes
// (else Validate would verify every signature: right, but slow), and
// nothing is read from what is not such a key.
func TestPeekLicense(t *testing.T) {
	seed := make([]byte, ed25519.SeedSize)
	k := NewKeyring(ed25519.NewKeyFromSeed(seed))
	for _, p := range []Payload{
		{License: "lic_abcdefghijklmnopqrstuvwxyz", Product: "milter"},
		{License: "lic_" + "a234567abcdefghijklmnopqrs", Product: "p", Edition: "e", Entitlements: []string{"dkim"}, IssuedAt: 1, Expires: 2, UpdatesUntil: 3, MaxMachines: 4},
	} {
		key, err := MakeKey(k.Signer(), p)
		if err != nil {
			t.Fatal(err)
		}
		if got := peekLicense(key); got != p.License {
			t.Errorf("peekLicense(%s) = %q, want %q", key, got, p.License)
		}
	}
	for _, key := range []string{"", "SK1", "SK1.", "SK1.!!!!", "SKF1.eyJ2IjoxfQ.x", "SK1.eyJ2IjoyLCJraWQiOiJ4IiwibGljIjoibGljX3gifQ.x", "SK1.eyJ2IjoxfQ.x"} {
		if got := peekLicense(key); got != "" {
			t.Errorf("peekLicense(%q) = %q, want none", key, got)
		}
	}
}
