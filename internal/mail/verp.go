package mail

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
)

// DefaultBounceLocal is the local part of the VERP return path when none
// is configured: bounces+<id>-<mac>@<domain>.
const DefaultBounceLocal = "bounces"

// verpMACLen is the number of hex digits of the tag's MAC: 48 bits, so a
// forger guessing online at our listener needs ~10^14 tries per message.
const verpMACLen = 12

// VERP makes and reads the return path (SMTP MAIL FROM) of each outbox
// message, bounces+<outbox id>-<mac>@<domain> (variable envelope return
// path): a delivery status notification comes back to that address and
// names the message it is about without parsing anything the remote
// server wrote. The MAC, an HMAC under a key derived from the
// installation secret, makes addresses for other messages impossible to
// forge, so nobody can mark someone else's mail bounced and suppress
// their address.
type VERP struct {
	// Secret is the installation secret (settings.InstallSecret); the MAC
	// key is derived from it, so it is never used as is.
	Secret []byte
	// Local is the local part before the "+" (default "bounces").
	Local string
	// Domain is the return path's domain; empty means the domain of the
	// message's From address (the worker fills it in).
	Domain string
}

func (v VERP) local() string {
	if v.Local == "" {
		return DefaultBounceLocal
	}
	return strings.ToLower(v.Local)
}

func (v VERP) mac(id int64) string {
	k := hmac.New(sha256.New, v.Secret)
	k.Write([]byte("storekeep verp v1"))
	m := hmac.New(sha256.New, k.Sum(nil))
	m.Write([]byte(strconv.FormatInt(id, 10)))
	return hex.EncodeToString(m.Sum(nil))[:verpMACLen]
}

// Address is the return path of outbox message id. It is "" without a
// domain.
func (v VERP) Address(id int64) string {
	if v.Domain == "" || id <= 0 {
		return ""
	}
	return v.local() + "+" + strconv.FormatInt(id, 10) + "-" + v.mac(id) + "@" + strings.ToLower(v.Domain)
}

// IsBounceAddress reports whether address has the return path's local
// part, with or without a tag (bounces@, bounces+...@), at Domain when one
// is set. It says nothing about whether the tag is genuine.
func (v VERP) IsBounceAddress(address string) bool {
	local, domain, ok := splitAddress(address)
	if !ok || (v.Domain != "" && domain != strings.ToLower(v.Domain)) {
		return false
	}
	base, _, _ := strings.Cut(local, "+")
	return base == v.local()
}

// Parse reads the outbox id from a return path made by Address. ok is
// false for any other address, and for a tag whose MAC is wrong (a forged
// or mistyped address). Case is ignored: some servers change it.
func (v VERP) Parse(address string) (id int64, ok bool) {
	local, domain, ok := splitAddress(address)
	if !ok || (v.Domain != "" && domain != strings.ToLower(v.Domain)) {
		return 0, false
	}
	base, tag, ok := strings.Cut(local, "+")
	if !ok || base != v.local() {
		return 0, false
	}
	num, mac, ok := strings.Cut(tag, "-")
	if !ok || len(num) == 0 || len(num) > 18 || num[0] == '0' || len(mac) != verpMACLen {
		return 0, false
	}
	for _, c := range num {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	id, err := strconv.ParseInt(num, 10, 64)
	if err != nil || id <= 0 {
		return 0, false
	}
	if !hmac.Equal([]byte(mac), []byte(v.mac(id))) {
		return 0, false
	}
	return id, true
}

// splitAddress lower-cases a bare address (angle brackets allowed) and
// splits it at its last "@".
func splitAddress(address string) (local, domain string, ok bool) {
	a := strings.ToLower(strings.TrimSpace(address))
	a = strings.TrimSuffix(strings.TrimPrefix(a, "<"), ">")
	at := strings.LastIndexByte(a, '@')
	if at <= 0 || at == len(a)-1 || strings.ContainsAny(a, " \t\r\n<>") {
		return "", "", false
	}
	return a[:at], a[at+1:], true
}
