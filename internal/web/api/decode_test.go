package api

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzDecode: no body makes decode panic, every refusal is a bad request
// with a message and a nonce only of the allowed shape, and what is taken
// is one object of the known members with a good nonce.
func FuzzDecode(f *testing.F) {
	f.Add(`{"key":"SK1.a.b","fingerprint":"host","nonce":"nonce-0123456789ab"}`)
	f.Add(`{"key":"a","key":"b","nonce":"nonce-0123456789ab"}`)
	f.Add(`{"Key":"a","nonce":"nonce-0123456789ab"} {}`)
	f.Add(`{"nonce":"nonce-0123456789ab","seats":[1,{"x":null}]}`)
	f.Add(`[` + strings.Repeat(`{"a":`, 100))
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest("POST", "/api/v1/machines/activate", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		var req activateRequest
		err := decode(r, &req)
		if err != nil {
			var b *badRequest
			if !errors.As(err, &b) || b.msg == "" || !utf8.ValidString(b.msg) {
				t.Fatalf("refusal %v is not a bad request with a message", err)
			}
			if b.nonce != "" && checkNonce(b.nonce) != nil {
				t.Fatalf("refusal carries the nonce %q", b.nonce)
			}
			return
		}
		if len(body) > MaxBody {
			t.Fatalf("took a body of %d bytes", len(body))
		}
	})
}
