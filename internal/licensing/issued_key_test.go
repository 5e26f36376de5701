package licensing_test

import (
	"context"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/testutil"
)

// TestValidateKeysNamingALicense: Validate skips the signature check only
// for the key stored with the license; every other key naming that license
// gets the answer the signature check gives (re-signed by us: the row's
// answer; by another key: UNKNOWN_KEY_ID; tampered: INVALID_KEY), and the
// stored key itself answers UNKNOWN_KEY_ID once its signing key is no
// longer loaded.
func TestValidateKeysNamingALicense(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		l := f.issue(t, f.pro, false, 1)
		p, err := licensing.ParseKey(f.keys, l.Key)
		if err != nil {
			t.Fatal(err)
		}
		check := func(what string, keys licensing.PublicKeys, key string, want licensing.Code) licensing.Result {
			t.Helper()
			r, err := licensing.Validate(ctx, d, keys, licensing.Check{Key: key}, t0)
			return wantCode(t, what, r, err, want)
		}
		r := check("stored key", f.keys, l.Key, licensing.CodeValid)
		if r.License == nil || r.License.LicenseID != l.LicenseID || r.License.Key != l.Key {
			t.Fatalf("stored key: %+v", r.License)
		}
		check("stored key with spaces around", f.keys, "  "+l.Key+"\n", licensing.CodeValid)

		// Re-signed by us with other terms: it verifies, and the answer is
		// the row's, as it always was.
		q := p
		q.MaxMachines = 99
		resigned, err := licensing.MakeKey(f.keys.Signer(), q)
		if err != nil {
			t.Fatal(err)
		}
		r = check("re-signed by us", f.keys, resigned, licensing.CodeValid)
		if r.License.MaxMachines != l.MaxMachines || r.License.Key != l.Key {
			t.Fatalf("re-signed: the answer is not the row's: %+v", r.License)
		}

		foreign, err := licensing.MakeKey(testKeys(9).Signer(), p)
		if err != nil {
			t.Fatal(err)
		}
		check("signed by a key not ours", f.keys, foreign, licensing.CodeUnknownKeyID)

		parts := strings.Split(l.Key, ".")
		sig := []byte(parts[2])
		sig[5] ^= 'A' ^ 'B'
		if sig[5] == parts[2][5] {
			sig[5] = 'C'
		}
		check("signature changed", f.keys, parts[0]+"."+parts[1]+"."+string(sig), licensing.CodeInvalidKey)
		check("payload of the stored key, no signature", f.keys, parts[0]+"."+parts[1]+".", licensing.CodeInvalidKey)
		check("stored key, one character longer", f.keys, l.Key+"A", licensing.CodeInvalidKey)

		// The signing key taken out of the keyring: its keys are no longer
		// ours, stored or not.
		check("stored key, kid unloaded", testKeys(9), l.Key, licensing.CodeUnknownKeyID)
	})
}
