package mailmsg

import (
	"errors"
	"io"
	"mime"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/emersion/go-message"

	"github.com/storekeep/storekeep/internal/emailaddr"
)

// wordDecoder decodes RFC 2047 encoded words with the charsets go-message
// knows.
var wordDecoder = &mime.WordDecoder{CharsetReader: charsetReader}

var errUnknownCharset = errors.New("unknown charset")

func charsetReader(charset string, input io.Reader) (io.Reader, error) {
	if message.CharsetReader == nil {
		return nil, errUnknownCharset
	}
	return message.CharsetReader(charset, input)
}

// decodeWords decodes a header value's encoded words.
func decodeWords(s string) (string, error) {
	if !strings.Contains(s, "=?") {
		return s, nil
	}
	return wordDecoder.DecodeHeader(s)
}

var addressParser = &mail.AddressParser{WordDecoder: wordDecoder}

func parseAddressList(s string) ([]*mail.Address, error) {
	return addressParser.ParseList(s)
}

// lenientAddress reads "anything <address>" with exactly one pair of angle
// brackets, for the From headers net/mail refuses.
func lenientAddress(s string) (*mail.Address, bool) {
	if strings.Count(s, "<") != 1 || strings.Count(s, ">") != 1 {
		return nil, false
	}
	i, j := strings.IndexByte(s, '<'), strings.IndexByte(s, '>')
	if j < i {
		return nil, false
	}
	name := strings.Trim(strings.TrimSpace(s[:i]), `"' `)
	if d, err := decodeWords(name); err == nil {
		name = d
	}
	return &mail.Address{Name: name, Address: strings.TrimSpace(s[i+1 : j])}, true
}

// normaliseAddress applies the project's one rule for addresses.
func normaliseAddress(s string) (string, bool) {
	a, err := emailaddr.NormaliseEmail(s)
	return a, err == nil
}

// msgIDs reads the message IDs of a Message-ID, In-Reply-To or References
// header, leniently: every <...> that looks like an ID, or else a lone
// bare token with an "@".
func msgIDs(v string) []string {
	var ids []string
	seen := map[string]bool{}
	add := func(id string) {
		if validMsgID(id) && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	rest := v
	found := false
	for {
		i := strings.IndexByte(rest, '<')
		if i < 0 {
			break
		}
		j := strings.IndexByte(rest[i:], '>')
		if j < 0 {
			break
		}
		found = true
		add(strings.TrimSpace(rest[i+1 : i+j]))
		rest = rest[i+j+1:]
	}
	if !found {
		if f := strings.Fields(v); len(f) == 1 && strings.Contains(f[0], "@") {
			add(f[0])
		}
	}
	return ids
}

// validMsgID accepts printable ASCII without spaces or brackets, of a
// sensible length.
func validMsgID(id string) bool {
	if id == "" || len(id) > 250 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if c <= ' ' || c >= 0x7f || c == '<' || c == '>' || c == '"' {
			return false
		}
	}
	return true
}

// capReferences keeps the first reference (the thread's root) and the
// latest ones.
func capReferences(ids []string) []string {
	if len(ids) <= maxReferences {
		return ids
	}
	out := make([]string, 0, maxReferences)
	out = append(out, ids[0])
	return append(out, ids[len(ids)-maxReferences+1:]...)
}

// firstToken is the lower-cased keyword a header value starts with, as in
// "auto-replied; owner-email=...".
func firstToken(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.IndexAny(v, "; \t("); i >= 0 {
		v = v[:i]
	}
	if !utf8.ValidString(v) || len(v) > 64 {
		return ""
	}
	return strings.ToLower(v)
}

// listID is the identifier of a List-Id header ("Name <id>"), or the
// value itself without one.
func listID(v string) string {
	if i := strings.LastIndexByte(v, '<'); i >= 0 {
		if j := strings.IndexByte(v[i:], '>'); j > 0 {
			return truncateRunes(oneLine(v[i+1:i+j]), subjectRunes)
		}
	}
	return truncateRunes(oneLine(v), subjectRunes)
}

// autoReply says whether the headers mark mail sent by a program.
//
// X-Auto-Response-Suppress alone is not enough: it asks others not to
// answer automatically, and Exchange and many mailing programs put it on
// mail a person wrote too. Exchange's own out-of-office replies carry it
// as "All" (or with OOF) together with X-MS-Exchange-Inbox-Rules-Loop, and
// usually with Auto-Submitted as well.
func autoReply(h header) (bool, string) {
	if a := firstToken(h.Get("Auto-Submitted")); a != "" && a != "no" {
		return true, "Auto-Submitted: " + a
	}
	for _, k := range []string{"X-Autoreply", "X-Autorespond", "X-Autoresponder"} {
		if v := firstToken(h.Get(k)); h.Has(k) && v != "no" && v != "false" && v != "0" {
			return true, k + ": " + v
		}
	}
	switch p := firstToken(h.Get("Precedence")); p {
	case "bulk", "junk", "list", "auto_reply":
		return true, "Precedence: " + p
	}
	if h.Has("X-Ms-Exchange-Inbox-Rules-Loop") {
		for _, t := range strings.FieldsFunc(strings.ToLower(h.Get("X-Auto-Response-Suppress")), func(r rune) bool {
			return r == ',' || unicode.IsSpace(r)
		}) {
			if t == "all" || t == "oof" {
				return true, "X-Auto-Response-Suppress: " + t
			}
		}
	}
	return false, ""
}

// spam reads the verdict of SpamAssassin (X-Spam-Flag, X-Spam-Status) and
// rspamd (X-Spam, X-Spamd-Result, X-Rspamd-Action). Only the receiving
// server's filter is meant: it should remove these headers from what
// arrives (rspamd does by default).
func spam(h header) Spam {
	for _, v := range h.Values("X-Spam-Flag") {
		if t := firstToken(v); t == "yes" || t == "true" {
			return Spam{true, "X-Spam-Flag: " + t}
		}
	}
	for _, v := range h.Values("X-Spam-Status") {
		if t := strings.TrimSuffix(firstToken(v), ","); t == "yes" {
			return Spam{true, "X-Spam-Status: " + t}
		}
	}
	for _, v := range h.Values("X-Spam") {
		if t := firstToken(v); t == "yes" || t == "true" {
			return Spam{true, "X-Spam: " + t}
		}
	}
	for _, v := range h.Values("X-Spamd-Result") {
		// "default: True [12.40 / 15.00]; ..."
		if f := strings.Fields(strings.ToLower(v)); len(f) >= 2 && f[0] == "default:" && f[1] == "true" {
			return Spam{true, "X-Spamd-Result: default: true"}
		}
	}
	for _, v := range h.Values("X-Rspamd-Action") {
		switch a := strings.ToLower(strings.Join(strings.Fields(v), " ")); a {
		case "add header", "rewrite subject", "reject", "soft reject":
			return Spam{true, "X-Rspamd-Action: " + a}
		}
	}
	return Spam{}
}

// oneLine joins s onto one line of single spaces, valid UTF-8 and without
// control characters.
func oneLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || isBidiControl(r) {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// isBidiControl reports the invisible direction marks that make a name
// display other than it reads ("invoice\u202Efdp.exe").
func isBidiControl(r rune) bool {
	return r >= '\u202A' && r <= '\u202E' || r >= '\u2066' && r <= '\u2069' || r == '\u200E' || r == '\u200F' || r == '\u061C'
}

// truncateRunes cuts s to at most n characters, marking the cut.
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
