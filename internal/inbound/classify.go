package inbound

import (
	"strings"
	"unicode"

	"github.com/storekeep/storekeep/internal/requests"
)

// keyword is one word of the rule that picks a request's kind.
type keyword struct {
	word string // lower case; matched at the start of a word, as a prefix
	// whole requires the word to end there too ("copy", not "copyright").
	whole bool
	kind  requests.Kind
}

// keywords is the whole rule, in the order ties are broken. It is kept
// small on purpose: staff see which word decided and correct the kind.
var keywords = []keyword{
	{word: "eras", kind: requests.Erasure},
	{word: "delet", kind: requests.Erasure},
	{word: "forget", kind: requests.Erasure},
	{word: "forgotten", kind: requests.Erasure},
	{word: "withdraw", kind: requests.Withdrawal},
	{word: "unsubscrib", kind: requests.Withdrawal},
	{word: "consent", kind: requests.Withdrawal},
	{word: "export", kind: requests.Portability},
	{word: "portab", kind: requests.Portability},
	{word: "rectif", kind: requests.Rectification},
	{word: "correct", kind: requests.Rectification},
	{word: "restrict", kind: requests.Restriction},
	{word: "object", kind: requests.Objection},
	{word: "copy", whole: true, kind: requests.Access},
	{word: "access", kind: requests.Access},
	{word: "what data", whole: true, kind: requests.Access},
	{word: "what personal data", whole: true, kind: requests.Access},
	{word: "which data", whole: true, kind: requests.Access},
}

// DefaultKind is the kind of a message in which no keyword occurs.
const DefaultKind = requests.Access

// Classify picks the kind of request a message asks for: the keyword that
// occurs first wins, in the subject before the text, and a message with no
// keyword asks for access. It returns the word of the text that decided,
// "" for the default.
func Classify(subject, text string) (requests.Kind, string) {
	for _, s := range []string{subject, text} {
		words := " " + normalise(s) + " "
		best, at := -1, len(words)
		for i, k := range keywords {
			pat := " " + k.word
			if k.whole {
				pat += " "
			}
			if j := strings.Index(words, pat); j >= 0 && j < at {
				best, at = i, j
			}
		}
		if best >= 0 {
			return keywords[best].kind, matched(words[at+1:], keywords[best])
		}
	}
	return DefaultKind, ""
}

// matched is the text that k matched at the start of rest: the whole
// word for a prefix ("deleted" for "delet").
func matched(rest string, k keyword) string {
	if k.whole {
		return k.word
	}
	if end := strings.IndexByte(rest, ' '); end >= 0 {
		return rest[:end]
	}
	return rest
}

// normalise lower-cases s and turns every run of characters other than
// letters and digits into one space.
func normalise(s string) string {
	var b strings.Builder
	space := true
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
			space = false
		} else if !space {
			b.WriteByte(' ')
			space = true
		}
	}
	return strings.TrimSpace(b.String())
}
