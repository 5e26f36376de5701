// Package unsubscribe is the signed link every bulk message carries
// (List-Unsubscribe, RFC 2369 and RFC 8058): whom it stops, for which
// purpose or list, and which message it came in, so that following it
// needs no sign-in, cannot be forged for someone else, and can be counted
// against the notice that carried it.
//
// The web side (the one-click POST, the confirmation page) and the record
// of each unsubscribe (table unsubscribes, with the time it was
// processed) live with the mailing lists (internal/lists,
// internal/web/lists); this package only makes and reads links.
package unsubscribe

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"strconv"
	"strings"
)

// Token is what an unsubscribe link says. Exactly one of Customer and
// Subscriber is set.
type Token struct {
	// Customer is a customer account's id; Subscriber a list subscriber's
	// without an account (internal/lists).
	Customer, Subscriber int64
	// Purpose is the inventory purpose the mail served ("notices",
	// "marketing"): unsubscribing records an objection to it, or withdraws
	// the consent it rests on.
	Purpose string
	// List is the mailing list the mail went to; 0 when it went to an
	// audience of license holders rather than a list.
	List int64
	// Notice is the notice recipient row the link was made for (its
	// per-message status), 0 when none.
	Notice int64
}

// ErrInvalid: the token is not one this installation signed.
var ErrInvalid = errors.New("unsubscribe: the link is not valid")

func (t Token) valid() bool {
	if (t.Customer > 0) == (t.Subscriber > 0) || t.Customer < 0 || t.Subscriber < 0 || t.List < 0 || t.Notice < 0 {
		return false
	}
	if t.Purpose == "" || len(t.Purpose) > 32 {
		return false
	}
	for i := 0; i < len(t.Purpose); i++ {
		if c := t.Purpose[i]; !(c >= 'a' && c <= 'z' || c == '-') {
			return false
		}
	}
	return true
}

// payload is the token's fields in a fixed order: c.s.purpose.list.notice.
func (t Token) payload() string {
	return strconv.FormatInt(t.Customer, 10) + "." + strconv.FormatInt(t.Subscriber, 10) + "." + t.Purpose + "." +
		strconv.FormatInt(t.List, 10) + "." + strconv.FormatInt(t.Notice, 10)
}

func mac(secret []byte, payload string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("unsubscribe/v2\x00"))
	m.Write([]byte(payload))
	return m.Sum(nil)[:16]
}

// Sign makes the token's text for a link: the fields and a MAC under the
// installation's secret, URL-safe. It panics on a token that is not
// valid (a programming error: no purpose, or no one to unsubscribe).
func Sign(secret []byte, t Token) string {
	if !t.valid() {
		panic("unsubscribe: Sign of an incomplete token")
	}
	p := t.payload()
	return base64.RawURLEncoding.EncodeToString([]byte(p)) + "." + base64.RawURLEncoding.EncodeToString(mac(secret, p))
}

// Parse reads a token made by Sign with the same secret; anything else is
// ErrInvalid.
func Parse(secret []byte, s string) (Token, error) {
	if len(s) > 256 {
		return Token{}, ErrInvalid
	}
	p64, m64, ok := strings.Cut(s, ".")
	if !ok {
		return Token{}, ErrInvalid
	}
	// Strict: unused trailing bits must be zero, so that one token has
	// one text (FuzzParse found two texts for the same token).
	raw, err1 := strictB64.DecodeString(p64)
	got, err2 := strictB64.DecodeString(m64)
	if err1 != nil || err2 != nil || !hmac.Equal(got, mac(secret, string(raw))) {
		return Token{}, ErrInvalid
	}
	f := strings.Split(string(raw), ".")
	if len(f) != 5 {
		return Token{}, ErrInvalid
	}
	var t Token
	var err error
	nums := []*int64{&t.Customer, &t.Subscriber, &t.List, &t.Notice}
	for i, idx := range []int{0, 1, 3, 4} {
		if *nums[i], err = strconv.ParseInt(f[idx], 10, 64); err != nil {
			return Token{}, ErrInvalid
		}
	}
	t.Purpose = f[2]
	if !t.valid() || t.payload() != string(raw) {
		return Token{}, ErrInvalid
	}
	return t, nil
}

var strictB64 = base64.RawURLEncoding.Strict()

// Path is where a token's link points on the site.
const Path = "/unsubscribe/"

// URL is the https link for List-Unsubscribe (and the mail's footer) on
// the site at base.
func URL(base *url.URL, secret []byte, t Token) string {
	u := *base
	u.Path = strings.TrimSuffix(u.Path, "/") + Path + Sign(secret, t)
	u.RawQuery, u.Fragment = "", ""
	return u.String()
}
