package licensing_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/licensing"
)

const vectorsPath = "../../docs/license-test-vectors.json"

// TestVectorsAreCurrent fails when the committed test vectors and the code
// disagree (regenerate with go run ./internal/licensing/cmd/vectors), and
// checks every vector against the parsers: the valid ones parse to their
// payloads, each negative one is refused with its code.
func TestVectorsAreCurrent(t *testing.T) {
	want, err := licensing.Vectors()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(vectorsPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("docs/license-test-vectors.json differs from what the code makes: run go run ./internal/licensing/cmd/vectors and commit it (and tell the SDK's engineer)")
	}
	var vs licensing.VectorSet
	if err := json.Unmarshal(got, &vs); err != nil {
		t.Fatal(err)
	}
	keys := licensing.VectorKeys()
	p, err := licensing.ParseKey(keys, vs.Key.Key)
	if err != nil {
		t.Fatal(err)
	}
	pj, _ := json.Marshal(p)
	if string(pj) != vs.Key.PayloadJSON {
		t.Errorf("the key parses to %s, the vector says %s", pj, vs.Key.PayloadJSON)
	}
	for _, f := range vs.Files {
		fp, err := licensing.ParseFile(keys, []byte(f.File))
		if err != nil {
			t.Fatalf("file %s: %v", f.Name, err)
		}
		if (f.Fingerprint == "") != (fp.Fingerprint == "") || (f.Fingerprint != "" && fp.Fingerprint != licensing.FingerprintHash(f.Fingerprint)) {
			t.Errorf("file %s: bound to %q", f.Name, fp.Fingerprint)
		}
		if c := fileClockCheck(fp, f.VerifyAt); c != "" {
			t.Errorf("file %s refused at its verify_at: %s", f.Name, c)
		}
	}
	for _, n := range vs.Negative {
		var err error
		var code licensing.Code
		switch n.Kind {
		case "key":
			_, err = licensing.ParseKey(keys, n.Input)
		case "file":
			var fp licensing.FilePayload
			fp, err = licensing.ParseFile(keys, []byte(n.Input))
			if err == nil {
				code = fileClockCheck(fp, n.VerifyAt)
			}
		}
		var fe *licensing.FormatError
		if errors.As(err, &fe) {
			code = fe.Code
		}
		if code != n.Code {
			t.Errorf("%s: code %q (%v), want %s", n.Name, code, err, n.Code)
		}
	}
}

// fileClockCheck is the verifier's clock check the format asks for.
func fileClockCheck(p licensing.FilePayload, now int64) licensing.Code {
	if p.FileIssued > now+24*3600 {
		return licensing.CodeClockSkew
	}
	return ""
}

func TestKeyRoundTripAndRefusals(t *testing.T) {
	k := testKeys(1)
	p := licensing.Payload{License: "lic_abc", Product: "milter", Edition: "pro", IssuedAt: 1, MaxMachines: 2}
	key, err := licensing.MakeKey(k.Signer(), p)
	if err != nil {
		t.Fatal(err)
	}
	got, err := licensing.ParseKey(k, key)
	if err != nil || got.License != "lic_abc" || got.KID != k.ActiveKID() || got.Entitlements == nil {
		t.Fatalf("round trip %+v, %v", got, err)
	}
	long := "SK1." + strings.Repeat("A", licensing.MaxKeyLength)
	if _, err := licensing.ParseKey(k, long); err == nil {
		t.Fatal("an over-long key was accepted")
	}
	// Unknown members are ignored, members in any order are accepted.
	var fe *licensing.FormatError
	if _, err := licensing.ParseKey(k, "SK1.e30.AAAA"); !errors.As(err, &fe) || fe.Code != licensing.CodeInvalidKey {
		t.Fatalf("a short signature: %v", err)
	}
	pub, _ := k.PublicKey(k.ActiveKID())
	if licensing.KeyID(pub) != k.ActiveKID() || len(k.Published()) != 1 || k.Published()[0].Alg != "Ed25519" {
		t.Fatalf("published %+v", k.Published())
	}
	msg := []byte("response")
	kid, sig := k.Sign(msg)
	if kid != k.ActiveKID() || !ed25519.Verify(pub, msg, sig) {
		t.Fatal("Sign does not sign with the active key")
	}
}

// FuzzParseKey: no input panics, and whatever parses was signed by us.
func FuzzParseKey(f *testing.F) {
	k := testKeys(3)
	key, _ := licensing.MakeKey(k.Signer(), licensing.Payload{License: "lic_fuzz", Product: "p", Entitlements: []string{"a"}})
	f.Add(key)
	f.Add("SK1..")
	f.Add("SK1.e30.")
	f.Add(strings.Repeat(".", 5))
	f.Fuzz(func(t *testing.T, s string) {
		p, err := licensing.ParseKey(k, s)
		if err == nil && (p.V != 1 || p.KID != k.ActiveKID()) {
			t.Fatalf("accepted %q as %+v", s, p)
		}
		var fe *licensing.FormatError
		if err != nil && !errors.As(err, &fe) {
			t.Fatalf("an error that is no FormatError: %v", err)
		}
	})
}

// FuzzParseFile: no input panics, and whatever parses carries a key of ours.
func FuzzParseFile(f *testing.F) {
	k := testKeys(3)
	key, _ := licensing.MakeKey(k.Signer(), licensing.Payload{License: "lic_fuzz", Product: "p"})
	file, _ := licensing.MakeFile(k.Signer(), licensing.FilePayload{Payload: licensing.Payload{License: "lic_fuzz", Product: "p"},
		Key: key, State: licensing.StateActive, FileIssued: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Unix()})
	f.Add(file)
	f.Add([]byte("-----BEGIN STOREKEEP LICENSE FILE-----\n-----END STOREKEEP LICENSE FILE-----\n"))
	f.Add([]byte("noise\n" + string(file) + "trailer"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := licensing.ParseFile(k, b)
		if err == nil {
			if _, err := licensing.ParseKey(k, p.Key); err != nil || p.Type != "file" {
				t.Fatalf("accepted a file whose key does not verify: %+v", p)
			}
		}
	})
}

// TestStrictMembers: validly signed payloads that break the member rules
// are refused; unknown members and members in another order are not.
func TestStrictMembers(t *testing.T) {
	k := testKeys(4)
	sign := func(payload string) string { return signRaw(k, payload) }
	kid := k.ActiveKID()
	base := `"v":1,"kid":"` + kid + `","lic":"lic_x","prd":"p","ed":"e","ent":[],"iat":1,"exp":0,"upd":0,"max":2`
	for _, tc := range []struct {
		payload string
		ok      bool
	}{
		{`{` + base + `}`, true},
		{`{"zzz":{"nested":[1,2]},` + base + `}`, true},
		{`{"max":2,"upd":0,"exp":0,"iat":1,"ent":null,"ed":"e","prd":"p","lic":"lic_x","kid":"` + kid + `","v":1}`, true},
		{`{` + base + `,"max":3}`, false},
		{`{` + strings.Replace(base, `,"upd":0`, "", 1) + `}`, false},
		{`{` + strings.Replace(base, `"max":2`, `"max":-2`, 1) + `}`, false},
		{`{` + strings.Replace(base, `"max":2`, `"max":2e0`, 1) + `}`, false},
		{`{` + base + `} {}`, false},
		{`[` + base + `]`, false},
		{`{` + strings.Replace(base, `"ent":[]`, `"ent":[1]`, 1) + `}`, false},
		{`{` + strings.Replace(base, `"ed":"e"`, "\"ed\":\"\xff\"", 1) + `}`, false},
	} {
		_, err := licensing.ParseKey(k, sign(tc.payload))
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v, want ok=%v", tc.payload, err, tc.ok)
		}
	}
	// White space around a pasted key is trimmed; inside it is refused.
	key, _ := licensing.MakeKey(k.Signer(), licensing.Payload{License: "lic_y"})
	if _, err := licensing.ParseKey(k, "  "+key+"\n"); err != nil {
		t.Errorf("a key with white space around it: %v", err)
	}
	if _, err := licensing.ParseKey(k, key[:20]+"\n"+key[20:]); err == nil {
		t.Error("a key with a line break inside was accepted")
	}
}

// signRaw signs payload, exactly these bytes, as a key.
func signRaw(k *licensing.Keyring, payload string) string {
	s := k.Signer()
	sig := ed25519.Sign(s.Priv, append([]byte("storekeep-license-key-v1\x00"), payload...))
	return "SK1." + base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + base64.RawURLEncoding.EncodeToString(sig)
}
