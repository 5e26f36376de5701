package httpsig_test

import (
	"crypto/ed25519"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/sdk/go/httpsig"
)

// These tests are the server's as much as the SDK's: Storekeep signs its
// license API's answers with this package (internal/web/api), so one
// implementation of RFC 9421 serves both sides.

var tamperNow = time.Date(2026, 5, 7, 10, 0, 0, 0, time.UTC)

func tamperSigned(t *testing.T, status int, body, nonce string) (http.Header, ed25519.PrivateKey) {
	t.Helper()
	k := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	if err := httpsig.SignResponse(h, status, []byte(body), nonce, tamperNow.Format(http.TimeFormat), tamperNow.Unix(), "0123456789abcdef", k); err != nil {
		t.Fatal(err)
	}
	return h, k
}

func tamperKeys(k ed25519.PrivateKey) func(string) (ed25519.PublicKey, bool) {
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
			if err := httpsig.SignResponse(h, 200, []byte(body), "n-0123456789abcdef", tamperNow.Format(http.TimeFormat), tamperNow.Unix(), "0123456789abcdef", other); err != nil {
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
			h, k := tamperSigned(t, 200, body, "n-0123456789abcdef")
			status, b := tamper(h)
			if _, err := httpsig.VerifyResponse(status, h, []byte(b), tamperKeys(k)); err == nil {
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
	h, k := tamperSigned(t, 200, body, "n-0123456789abcdef")
	h.Set("Signature-Input", `proxy=("@status");created=1, `+h.Get("Signature-Input"))
	h.Add("Signature", "proxy=:AAAA:")
	if _, err := httpsig.VerifyResponse(200, h, []byte(body), tamperKeys(k)); err != nil {
		t.Fatal(err)
	}
}

// FuzzVerifyTampered: no header value makes Verify panic or accept a forgery.
func FuzzVerifyTampered(f *testing.F) {
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
		if _, err := httpsig.VerifyResponse(200, h, nil, tamperKeys(k)); err == nil {
			t.Fatal("a response signed by nobody verified")
		}
	})
}
