// Package emailaddr holds the one rule for accepting and storing email
// addresses, shared by every kind of account so that an address typed in
// two places compares equal.
package emailaddr

import (
	"fmt"
	"net/mail"
	"strings"

	"github.com/storekeep/storekeep/internal/refuse"
)

// MaxLength is the longest address accepted (RFC 5321's path limit, less
// the angle brackets).
const MaxLength = 254

// NormaliseEmail checks an address and returns it in the form we store:
// trimmed and lower-cased. It accepts a bare address only (no display name,
// no comments, no quoted local part) whose domain has a dot; anything
// else is refused (refuse.Field "email").
func NormaliseEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || len(s) > MaxLength || !strings.Contains(s[strings.LastIndexByte(s, '@'):], ".") {
		return "", refuse.Field("email", fmt.Sprintf("%q is not an email address: enter one such as name@example.com", s))
	}
	return strings.ToLower(s), nil
}
