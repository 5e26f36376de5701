package license_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"testing"
	"time"

	license "github.com/storekeep/storekeep/sdk/go"
)

// vectorsPath is the server's published test vectors (docs/license-test-vectors.json, made by
// go run ./internal/licensing/cmd/vectors). The test skips while the file does not exist.
const vectorsPath = "../../docs/license-test-vectors.json"

type vectors struct {
	FormatVersion int             `json:"format_version"`
	SeedHex       string          `json:"seed_hex"`
	PublicKeyHex  string          `json:"public_key_hex"`
	WellKnown     json.RawMessage `json:"well_known"`
	KID           string          `json:"kid"`
	Key           struct {
		PayloadJSON      string          `json:"payload_json"`
		SignedMessageHex string          `json:"signed_message_hex"`
		SignatureHex     string          `json:"signature_hex"`
		Key              string          `json:"key"`
		Payload          json.RawMessage `json:"payload"`
	} `json:"key"`
	Files []struct {
		Name        string          `json:"name"`
		Fingerprint string          `json:"fingerprint"`
		VerifyAt    int64           `json:"verify_at"`
		PayloadJSON string          `json:"payload_json"`
		File        string          `json:"file"`
		Payload     json.RawMessage `json:"payload"`
		Code        license.Code    `json:"code"`
	} `json:"files"`
	Negative []struct {
		Name        string       `json:"name"`
		Kind        string       `json:"kind"`
		Input       string       `json:"input"`
		Code        license.Code `json:"code"`
		VerifyAt    int64        `json:"verify_at"`
		Fingerprint string       `json:"fingerprint"`
	} `json:"negative"`
}

func TestPublishedVectors(t *testing.T) {
	path := vectorsPath
	if p := os.Getenv("STOREKEEP_LICENSE_VECTORS"); p != "" {
		path = p
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skip(path + " does not exist yet")
	}
	if err != nil {
		t.Fatal(err)
	}
	var vs vectors
	if err := json.Unmarshal(b, &vs); err != nil {
		t.Fatal(err)
	}
	if vs.FormatVersion != 1 {
		t.Fatalf("format_version %d", vs.FormatVersion)
	}
	v, err := license.NewVerifierFromJSON(vs.WellKnown)
	if err != nil {
		t.Fatal(err)
	}
	// The key pair from the seed, and the kid from the public key.
	if vs.SeedHex != "" {
		seed, _ := hex.DecodeString(vs.SeedHex)
		pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
		if hex.EncodeToString(pub) != vs.PublicKeyHex {
			t.Fatalf("public key of the seed %x, vectors say %s", pub, vs.PublicKeyHex)
		}
		if license.KeyID(pub) != vs.KID {
			t.Fatalf("kid %s, vectors say %s", license.KeyID(pub), vs.KID)
		}
		if _, ok := v.PublicKey(vs.KID); !ok {
			t.Fatal("the well-known document lacks the kid")
		}
	}
	// The key: signed message = domain || 0 || payload, the signature, and VerifyKey.
	if vs.Key.Key != "" {
		msg, _ := hex.DecodeString(vs.Key.SignedMessageHex)
		if want := append([]byte("storekeep-license-key-v1\x00"), vs.Key.PayloadJSON...); vs.Key.SignedMessageHex != "" && !bytes.Equal(msg, want) {
			t.Fatalf("signed message is not the domain, 0 and the payload")
		}
		sig, _ := hex.DecodeString(vs.Key.SignatureHex)
		pub, _ := v.PublicKey(vs.KID)
		if vs.Key.SignatureHex != "" && !ed25519.Verify(pub, msg, sig) {
			t.Fatal("signature_hex does not verify over signed_message_hex")
		}
		l, err := v.VerifyKey(vs.Key.Key)
		if err != nil {
			t.Fatalf("key: %v", err)
		}
		checkPayload(t, "key", l, vs.Key.Payload)
	}
	for _, f := range vs.Files {
		l, err := v.VerifyFile([]byte(f.File), f.Fingerprint, time.Unix(f.VerifyAt, 0))
		want := f.Code
		if want == "" {
			want = license.CodeValid
		}
		if err != nil && license.CodeOf(err) != want || err == nil && l.Code != want {
			t.Errorf("file %q: %v (code %s), want %s", f.Name, err, l.Code, want)
			continue
		}
		if err == nil {
			checkPayload(t, "file "+f.Name, l, f.Payload)
			if f.Fingerprint != "" {
				if _, err := v.VerifyFile([]byte(f.File), f.Fingerprint+"-other", time.Unix(f.VerifyAt, 0)); license.CodeOf(err) != license.CodeFingerprintScopeMismatch {
					t.Errorf("file %q on another machine: %v", f.Name, err)
				}
			}
		}
	}
	for _, n := range vs.Negative {
		var err error
		switch n.Kind {
		case "key":
			_, err = v.VerifyKey(n.Input)
		case "file":
			at := time.Unix(n.VerifyAt, 0)
			if n.VerifyAt == 0 {
				at = time.Now()
			}
			_, err = v.VerifyFile([]byte(n.Input), n.Fingerprint, at)
		default:
			t.Logf("negative %q: kind %q not known to this test", n.Name, n.Kind)
			continue
		}
		if license.CodeOf(err) != n.Code {
			t.Errorf("negative %q: got %v, want %s", n.Name, err, n.Code)
		}
	}
}

// checkPayload compares what the SDK read with the vectors' decoded payload.
func checkPayload(t *testing.T, what string, l license.License, raw json.RawMessage) {
	t.Helper()
	if len(raw) == 0 {
		return
	}
	var p struct {
		V   int      `json:"v"`
		Kid string   `json:"kid"`
		Lic string   `json:"lic"`
		Prd string   `json:"prd"`
		Ed  string   `json:"ed"`
		Ent []string `json:"ent"`
		Iat int64    `json:"iat"`
		Exp int64    `json:"exp"`
		Upd int64    `json:"upd"`
		Max int      `json:"max"`
		St  string   `json:"st"`
		Fp  string   `json:"fp"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatal(err)
	}
	u := func(t time.Time) int64 {
		if t.IsZero() {
			return 0
		}
		return t.Unix()
	}
	if p.V != l.Version || p.Lic != l.ID || p.Prd != l.Product || p.Ed != l.Edition || p.Iat != u(l.IssuedAt) ||
		p.Exp != u(l.ExpiresAt) || p.Upd != u(l.UpdatesUntil) || p.Max != l.MaxMachines || len(p.Ent) != len(l.Entitlements) ||
		p.St != string(l.State) || p.Fp != l.FingerprintSHA256 {
		t.Errorf("%s: read %+v, vectors say %s", what, l, raw)
	}
}
