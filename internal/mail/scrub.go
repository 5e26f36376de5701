package mail

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxErrorLen caps the relay's answer kept in last_error.
const maxErrorLen = 500

// scrubError returns an error text fit to store and log: every word with
// an "@" in it (an address, as relays quote them: "<bob@example.com>:
// mailbox unavailable") is replaced by "[address]", so neither the outbox
// nor the logs repeat who a message was for. The text is also made valid
// UTF-8, put on one line and shortened.
func scrubError(s string) string {
	s = strings.ToValidUTF8(s, "?")
	var b strings.Builder
	for {
		at := strings.IndexByte(s, '@')
		if at < 0 {
			b.WriteString(s)
			break
		}
		start := at
		for start > 0 {
			r, size := utf8.DecodeLastRuneInString(s[:start])
			if isWordBoundary(r) {
				break
			}
			start -= size
		}
		end := at + 1
		for end < len(s) {
			r, size := utf8.DecodeRuneInString(s[end:])
			if isWordBoundary(r) {
				break
			}
			end += size
		}
		b.WriteString(s[:start])
		b.WriteString("[address]")
		s = s[end:]
	}
	out := strings.Join(strings.Fields(b.String()), " ")
	if len(out) > maxErrorLen {
		cut := maxErrorLen
		for cut > 0 && !utf8.RuneStart(out[cut]) {
			cut--
		}
		out = out[:cut] + "…"
	}
	return out
}

// isWordBoundary reports whether r ends an address-like word.
func isWordBoundary(r rune) bool {
	return unicode.IsSpace(r) || strings.ContainsRune(`<>"'(),;[]{}`, r)
}
