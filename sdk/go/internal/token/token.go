// Package token holds the pieces of the version 1 key and file format that both the SDK's
// verifier and its fake server (licensetest) use: prefixes, domain-separation strings,
// signing and armour.
package token

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"strings"
)

const (
	KeyPrefix  = "SK1"
	FilePrefix = "SKF1"
	KeyDomain  = "storekeep-license-key-v1"
	FileDomain = "storekeep-license-file-v1"

	ArmourBegin = "-----BEGIN STOREKEEP LICENSE FILE-----"
	ArmourEnd   = "-----END STOREKEEP LICENSE FILE-----"
	ArmourWidth = 64
)

// B64 is base64url without padding; Strict refuses non-zero trailing bits, so that each
// byte string has exactly one encoding.
var B64 = base64.RawURLEncoding.Strict()

// Message returns what is signed: the domain-separation string, a zero byte, the payload.
func Message(domain string, payload []byte) []byte {
	m := make([]byte, 0, len(domain)+1+len(payload))
	m = append(m, domain...)
	m = append(m, 0)
	return append(m, payload...)
}

// Sign returns prefix "." base64url(payload) "." base64url(signature).
func Sign(prefix, domain string, payload []byte, key ed25519.PrivateKey) string {
	sig := ed25519.Sign(key, Message(domain, payload))
	return prefix + "." + B64.EncodeToString(payload) + "." + B64.EncodeToString(sig)
}

// Armour wraps a file token at ArmourWidth characters between the armour lines.
func Armour(tok string) []byte {
	var b strings.Builder
	b.WriteString(ArmourBegin)
	b.WriteByte('\n')
	for len(tok) > ArmourWidth {
		b.WriteString(tok[:ArmourWidth])
		b.WriteByte('\n')
		tok = tok[ArmourWidth:]
	}
	if tok != "" {
		b.WriteString(tok)
		b.WriteByte('\n')
	}
	b.WriteString(ArmourEnd)
	b.WriteByte('\n')
	return []byte(b.String())
}

// Dearmour returns the token between the first armour lines: lines outside the armour, blank
// lines and spaces (and tabs and carriage returns) are ignored.
func Dearmour(b []byte) (string, error) {
	s := string(b)
	var tok strings.Builder
	in, done := false, false
	for line := range strings.Lines(s) {
		l := strings.Map(func(r rune) rune {
			if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
				return -1
			}
			return r
		}, line)
		switch {
		case !in && l == strings.ReplaceAll(ArmourBegin, " ", ""):
			in = true
		case in && l == strings.ReplaceAll(ArmourEnd, " ", ""):
			in, done = false, true
		case in && strings.HasPrefix(l, "-----"):
			return "", errors.New("armour line inside the armour")
		case in:
			tok.WriteString(l)
		}
		if done {
			break
		}
	}
	if !done {
		return "", errors.New("no BEGIN and END STOREKEEP LICENSE FILE lines")
	}
	return tok.String(), nil
}
