package httpsig_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/httpsig"
)

// The Ed25519 test key of RFC 9421 Appendix B.1.4 (its private part d and
// public part x, base64url as the RFC's JWK gives them).
const (
	rfcSeed   = "n4Ni-HpISpVObnQMW0wOhCKROaIKqKtW_2ZYb2p9KcU"
	rfcPublic = "JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs"
)

func rfcKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	seed, err := base64.RawURLEncoding.DecodeString(rfcSeed)
	if err != nil {
		t.Fatal(err)
	}
	k := ed25519.NewKeyFromSeed(seed)
	if got := base64.RawURLEncoding.EncodeToString(k.Public().(ed25519.PublicKey)); got != rfcPublic {
		t.Fatalf("public key %s, want the RFC's %s", got, rfcPublic)
	}
	return k
}

// TestRFC9421Example builds the signature base of RFC 9421 Appendix B.2.6
// (a request signed with Ed25519) and checks it, and the signature over
// it, byte for byte against the RFC.
func TestRFC9421Example(t *testing.T) {
	p := httpsig.Params{
		Components: []string{"date", "@method", "@path", "@authority", "content-type", "content-length"},
		Params:     []httpsig.Param{{Name: "created", Value: int64(1618884473)}, {Name: "keyid", Value: "test-key-ed25519"}},
	}
	values := map[string]string{
		"date": "Tue, 20 Apr 2021 02:07:55 GMT", "@method": "POST", "@path": "/foo",
		"@authority": "example.com", "content-type": "application/json", "content-length": "18",
	}
	base, err := httpsig.SignatureBase(p, func(c string) (string, error) { return values[c], nil })
	if err != nil {
		t.Fatal(err)
	}
	want := `"date": Tue, 20 Apr 2021 02:07:55 GMT
"@method": POST
"@path": /foo
"@authority": example.com
"content-type": application/json
"content-length": 18
"@signature-params": ("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"`
	if base != want {
		t.Fatalf("signature base\n%s\nwant\n%s", base, want)
	}
	sig := base64.StdEncoding.EncodeToString(ed25519.Sign(rfcKey(t), []byte(base)))
	if wantSig := "wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw=="; sig != wantSig {
		t.Fatalf("signature %s, want the RFC's %s", sig, wantSig)
	}
}

// TestContentDigest checks RFC 9530's own example (§2, the body
// {"hello": "world"} and a line feed) and the same body without it.
func TestContentDigest(t *testing.T) {
	for body, want := range map[string]string{
		"{\"hello\": \"world\"}\n": "sha-256=:RK/0qy18MlBSVnWgjwz6lZEWjP/lF5HF9bvEF8FabDg=:",
		`{"hello": "world"}`:       "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:",
	} {
		if got := httpsig.ContentDigest([]byte(body)); got != want {
			t.Errorf("ContentDigest(%q) = %s, want %s", body, got, want)
		}
	}
}

var now = time.Date(2026, 5, 7, 10, 0, 0, 0, time.UTC)

func signed(t *testing.T, status int, body, nonce string) (http.Header, ed25519.PrivateKey) {
	t.Helper()
	k := rfcKey(t)
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	if err := httpsig.Sign(h, status, []byte(body), nonce, now, httpsig.Key{ID: "0123456789abcdef", Private: k}); err != nil {
		t.Fatal(err)
	}
	return h, k
}

// TestSignedResponse checks the headers Sign writes against values written
// out by hand from the rules of RFC 9421 §2.5 and RFC 8941, and that the
// signature is over exactly that base.
func TestSignedResponse(t *testing.T) {
	body := `{"hello": "world"}`
	h, k := signed(t, 200, body, "n-0123456789abcdef")

	wantHeaders := map[string]string{
		"Content-Digest":  "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:",
		"Date":            "Thu, 07 May 2026 10:00:00 GMT",
		"Storekeep-Nonce": "n-0123456789abcdef",
		"Signature-Input": `sk=("@status" "content-digest" "date" "storekeep-nonce");created=1778148000;keyid="0123456789abcdef";alg="ed25519"`,
	}
	for name, want := range wantHeaders {
		if got := h.Get(name); got != want {
			t.Errorf("%s: %s\nwant %s", name, got, want)
		}
	}
	base := `"@status": 200
"content-digest": sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:
"date": Thu, 07 May 2026 10:00:00 GMT
"storekeep-nonce": n-0123456789abcdef
"@signature-params": ("@status" "content-digest" "date" "storekeep-nonce");created=1778148000;keyid="0123456789abcdef";alg="ed25519"`
	sig := h.Get("Signature")
	if !strings.HasPrefix(sig, "sk=:") || !strings.HasSuffix(sig, ":") {
		t.Fatalf("Signature %q is not sk=:base64:", sig)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(strings.TrimPrefix(sig, "sk=:"), ":"))
	if err != nil {
		t.Fatal(err)
	}
	if !ed25519.Verify(k.Public().(ed25519.PublicKey), []byte(base), raw) {
		t.Fatal("the signature is not over the hand-written signature base")
	}

	v, err := httpsig.Verify(200, h, []byte(body), keys(k))
	if err != nil {
		t.Fatal(err)
	}
	if v.KeyID != "0123456789abcdef" || !v.Created.Equal(now) || v.Nonce != "n-0123456789abcdef" {
		t.Fatalf("verified %+v", v)
	}
}

// TestEmptyNonce: an answer to a request without a usable nonce carries
// an empty Storekeep-Nonce, and the base has the empty value.
func TestEmptyNonce(t *testing.T) {
	h, k := signed(t, 400, `{}`, "")
	if vs, ok := h["Storekeep-Nonce"]; !ok || len(vs) != 1 || vs[0] != "" {
		t.Fatalf("Storekeep-Nonce %q, want present and empty", vs)
	}
	v, err := httpsig.Verify(400, h, []byte(`{}`), keys(k))
	if err != nil || v.Nonce != "" {
		t.Fatalf("Verify: %+v, %v", v, err)
	}
}

func keys(k ed25519.PrivateKey) func(string) (ed25519.PublicKey, bool) {
	return func(kid string) (ed25519.PublicKey, bool) {
		if kid != "0123456789abcdef" {
			return nil, false
		}
		return k.Public().(ed25519.PublicKey), true
	}
}

// TestTamperedResponsesFail changes one thing at a time in a signed
// response; every change fails verification.
func TestTamperedResponsesFail(t *testing.T) {
	const body = `{"code":"VALID","nonce":"n-0123456789abcdef"}`
	_, other, _ := ed25519.GenerateKey(nil)
	cases := map[string]func(h http.Header) (status int, body string){
		"body":   func(h http.Header) (int, string) { return 200, strings.Replace(body, "VALID", "REVOKED", 1) },
		"status": func(h http.Header) (int, string) { return 404, body },
		"nonce": func(h http.Header) (int, string) {
			h.Set("Storekeep-Nonce", "n-replayed-elsewhere")
			return 200, body
		},
		"second nonce value": func(h http.Header) (int, string) {
			h.Add("Storekeep-Nonce", "n-replayed-elsewhere")
			return 200, body
		},
		"date": func(h http.Header) (int, string) {
			h.Set("Date", "Fri, 08 May 2026 10:00:00 GMT")
			return 200, body
		},
		"digest recomputed for another body": func(h http.Header) (int, string) {
			b := strings.Replace(body, "VALID", "REVOKED", 1)
			h.Set("Content-Digest", httpsig.ContentDigest([]byte(b)))
			return 200, b
		},
		"created": func(h http.Header) (int, string) {
			h.Set("Signature-Input", strings.Replace(h.Get("Signature-Input"), "created=1778148000", "created=1778148600", 1))
			return 200, body
		},
		"fewer components": func(h http.Header) (int, string) {
			h.Set("Signature-Input", strings.Replace(h.Get("Signature-Input"), ` "storekeep-nonce"`, "", 1))
			return 200, body
		},
		"other alg": func(h http.Header) (int, string) {
			h.Set("Signature-Input", strings.Replace(h.Get("Signature-Input"), `alg="ed25519"`, `alg="hmac-sha256"`, 1))
			return 200, body
		},
		"unknown key id": func(h http.Header) (int, string) {
			h.Set("Signature-Input", strings.Replace(h.Get("Signature-Input"), `keyid="0123456789abcdef"`, `keyid="fedcba9876543210"`, 1))
			return 200, body
		},
		"re-signed by another key": func(h http.Header) (int, string) {
			if err := httpsig.Sign(h, 200, []byte(body), "n-0123456789abcdef", now, httpsig.Key{ID: "0123456789abcdef", Private: other}); err != nil {
				t.Fatal(err)
			}
			return 200, body
		},
		"no signature": func(h http.Header) (int, string) {
			h.Del("Signature")
			return 200, body
		},
		"signature under another label": func(h http.Header) (int, string) {
			h.Set("Signature", strings.Replace(h.Get("Signature"), "sk=", "proxy=", 1))
			return 200, body
		},
		"malformed signature": func(h http.Header) (int, string) {
			h.Set("Signature", "sk=:not base64!:")
			return 200, body
		},
		"no digest": func(h http.Header) (int, string) {
			h.Del("Content-Digest")
			return 200, body
		},
	}
	for name, tamper := range cases {
		t.Run(name, func(t *testing.T) {
			h, k := signed(t, 200, body, "n-0123456789abcdef")
			status, b := tamper(h)
			if _, err := httpsig.Verify(status, h, []byte(b), keys(k)); !errors.Is(err, httpsig.ErrInvalid) {
				t.Fatalf("Verify = %v, want a refusal", err)
			}
		})
	}
}

// TestVerifyToleratesOtherSignatures: a proxy may add a signature of its
// own; ours still verifies. (Content-Digest is covered, so a proxy that
// changes it breaks the signature, as it should.)
func TestVerifyToleratesOtherSignatures(t *testing.T) {
	const body = `{"code":"VALID"}`
	h, k := signed(t, 200, body, "n-0123456789abcdef")
	h.Set("Signature-Input", `proxy=("@status");created=1, `+h.Get("Signature-Input"))
	h.Add("Signature", "proxy=:AAAA:")
	if _, err := httpsig.Verify(200, h, []byte(body), keys(k)); err != nil {
		t.Fatal(err)
	}
}

// FuzzVerify: no header value makes Verify panic or accept a forgery.
func FuzzVerify(f *testing.F) {
	f.Add(`sk=("@status" "content-digest" "date" "storekeep-nonce");created=1;keyid="0123456789abcdef";alg="ed25519"`, "sk=:AAAA:", "sha-256=:AAAA:")
	f.Add(`sk=();x=?1;y=:YQ==:;z=tok/en`, `sk=:`, `a, b=1, c="`)
	_, k, _ := ed25519.GenerateKey(nil)
	f.Fuzz(func(t *testing.T, input, sig, digest string) {
		h := http.Header{}
		h.Set("Signature-Input", input)
		h.Set("Signature", sig)
		h.Set("Content-Digest", digest)
		h.Set("Date", "x")
		h.Set("Storekeep-Nonce", "")
		if _, err := httpsig.Verify(200, h, nil, keys(k)); err == nil {
			t.Fatal("a response signed by nobody verified")
		}
	})
}
