package inbound

import (
	"bytes"
	"errors"
	"html"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // decode the common non-UTF-8 charsets
	"github.com/emersion/go-message/mail"

	"github.com/storekeep/storekeep/internal/emailaddr"
)

// Limits of what is read from a message and kept in the note.
const (
	// noteLines is how many lines of the text are kept in the note (and
	// read by the keyword rule).
	noteLines = 20
	// noteRunes caps the text part of the note, well under the 4000
	// characters a request's note may hold.
	noteRunes = 2000
	// subjectRunes caps the subject kept in the note.
	subjectRunes = 200
	// maxPartBytes caps what is read of one body part.
	maxPartBytes = 256 << 10
)

// Message is what the receiver takes from a mail: never the attachments.
type Message struct {
	From    string // the one address of the From header, normalised
	Subject string // decoded, on one line
	// Text is the start of the message's text (the text/plain part, or the
	// HTML part reduced to text): at most noteLines lines, without quoted
	// lines ("> ...") and without the signature.
	Text string
	// Automatic is set for auto-replies and delivery reports
	// (Auto-Submitted other than "no", or a report content type).
	Automatic bool
}

// Reasons a message is refused.
var (
	ErrNoFrom     = errors.New("the message has no From address")
	ErrManyFrom   = errors.New("the message has more than one From address")
	ErrBadFrom    = errors.New("the From address is not a usable email address")
	ErrBadMessage = errors.New("the message cannot be read")
)

// Parse reads a message. It fails, never panics, on a message without
// exactly one usable From address or with an unreadable header; a body it
// cannot decode leaves Text empty.
func Parse(data []byte) (Message, error) {
	// An unknown charset still leaves a readable message (an error and a
	// reader); without a reader the header is broken.
	mr, err := mail.CreateReader(bytes.NewReader(data))
	if mr == nil || err != nil && !message.IsUnknownCharset(err) {
		return Message{}, ErrBadMessage
	}
	defer mr.Close()
	var m Message
	froms, err := mr.Header.AddressList("From")
	switch {
	case err != nil:
		return Message{}, ErrBadFrom
	case len(froms) == 0:
		return Message{}, ErrNoFrom
	case len(froms) > 1:
		return Message{}, ErrManyFrom
	}
	if m.From, err = emailaddr.NormaliseEmail(froms[0].Address); err != nil {
		return Message{}, ErrBadFrom
	}
	subject, err := mr.Header.Subject()
	if err != nil {
		subject = mr.Header.Get("Subject")
	}
	m.Subject = truncateRunes(oneLine(subject), subjectRunes)
	if a := strings.ToLower(strings.TrimSpace(mr.Header.Get("Auto-Submitted"))); a != "" && a != "no" {
		m.Automatic = true
	}
	if ct, _, _ := mr.Header.ContentType(); ct == "multipart/report" {
		m.Automatic = true
	}
	m.Text = excerpt(bodyText(mr))
	return m, nil
}

// bodyText returns the first text/plain part that is not an attachment,
// or else the first text/html part reduced to text.
func bodyText(mr *mail.Reader) string {
	var htmlText string
	for range 100 { // bounded: a message of many tiny parts stops here
		// With an unknown charset or transfer encoding NextPart returns
		// the part too, undecoded: better than nothing for the note.
		p, err := mr.NextPart()
		if p == nil || err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err) {
			break
		}
		h, ok := p.Header.(*mail.InlineHeader)
		if !ok {
			continue // an attachment: never read
		}
		if disp, _, _ := h.ContentDisposition(); disp == "attachment" {
			continue
		}
		ct, _, _ := h.ContentType()
		if ct == "" {
			ct = "text/plain"
		}
		if ct != "text/plain" && ct != "text/html" {
			continue
		}
		b, err := io.ReadAll(io.LimitReader(p.Body, maxPartBytes))
		if err != nil && len(b) == 0 {
			continue
		}
		if ct == "text/plain" {
			return string(b)
		}
		if htmlText == "" {
			htmlText = StripHTML(string(b))
		}
	}
	return htmlText
}

// excerpt keeps the first noteLines non-empty lines of text before the
// signature ("-- "), leaving out quoted lines, control characters and
// invalid UTF-8.
func excerpt(text string) string {
	text = strings.ToValidUTF8(text, "\uFFFD")
	var out []string
	for line := range strings.Lines(text) {
		line = strings.TrimRight(line, "\r\n")
		if line == "-- " || line == "--" {
			break
		}
		line = strings.TrimSpace(clean(line))
		if line == "" || strings.HasPrefix(line, ">") {
			continue
		}
		out = append(out, line)
		if len(out) == noteLines {
			break
		}
	}
	return truncateRunes(strings.Join(out, "\n"), noteRunes)
}

// clean replaces control characters (tabs included) with spaces.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
}

// oneLine joins s onto one line of single spaces.
func oneLine(s string) string {
	return strings.Join(strings.Fields(clean(strings.ToValidUTF8(s, "\uFFFD"))), " ")
}

// truncateRunes cuts s to at most n characters, marking the cut.
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// StripHTML reduces HTML to its text: tags are dropped (the content of
// script, style and head elements with them), block elements end lines and
// entities are decoded. It is a reader for the staff's note, not a
// sanitiser: the result is shown as plain text, escaped.
func StripHTML(s string) string {
	var b strings.Builder
	lower := strings.ToLower(s)
	for i := 0; i < len(s); {
		if s[i] != '<' {
			j := strings.IndexByte(s[i:], '<')
			if j < 0 {
				j = len(s) - i
			}
			b.WriteString(html.UnescapeString(s[i : i+j]))
			i += j
			continue
		}
		if strings.HasPrefix(s[i:], "<!--") {
			end := strings.Index(s[i+4:], "-->")
			if end < 0 {
				break
			}
			i += 4 + end + 3
			continue
		}
		end := strings.IndexByte(s[i:], '>')
		if end < 0 {
			break
		}
		name := tagName(lower[i+1 : i+end])
		i += end + 1
		switch name {
		case "script", "style", "head", "title":
			// Skip to the closing tag.
			c := strings.Index(lower[i:], "</"+name)
			if c < 0 {
				i = len(s)
				continue
			}
			i += c
		case "br", "p", "/p", "div", "/div", "li", "tr", "/tr", "h1", "h2", "h3", "h4", "/h1", "/h2", "/h3", "/h4", "blockquote", "/blockquote":
			b.WriteByte('\n')
		}
	}
	// Collapse the runs of spaces HTML source is full of.
	lines := strings.Split(b.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.Join(lines, "\n")
}

// tagName is the lower-case name of the tag whose inside is t, with a
// leading "/" for a closing tag ("/p").
func tagName(t string) string {
	prefix := ""
	if strings.HasPrefix(t, "/") {
		prefix, t = "/", t[1:]
	}
	if end := strings.IndexAny(t, " \t\r\n/"); end >= 0 {
		t = t[:end]
	}
	return prefix + t
}
