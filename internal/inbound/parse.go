package inbound

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // decode the common non-UTF-8 charsets
	"github.com/emersion/go-message/mail"
	"golang.org/x/net/html"

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
// script, style, head and title elements with them), block elements end
// lines and entities are decoded. It reads the markup with the HTML5
// tokenizer, so a ">" inside a quoted attribute value, a comment or a
// script is not taken for the end of a tag. It is a reader for the staff's
// note, not a sanitiser: the result is shown as plain text, escaped.
func StripHTML(s string) string {
	var b strings.Builder
	z := html.NewTokenizer(strings.NewReader(s))
	skip, depth := "", 0 // the element whose content is dropped, and how deep in it
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			// io.EOF, or the end of what the tokenizer can read: what
			// came before is the text.
			return collapseSpaces(b.String())
		case html.TextToken:
			if skip == "" {
				b.Write(z.Text())
			}
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, _ := z.TagName()
			tag := string(name)
			if skip != "" {
				switch {
				case tag != skip:
				case tt == html.StartTagToken:
					depth++
				case tt == html.EndTagToken:
					if depth--; depth == 0 {
						skip = ""
					}
				}
				continue
			}
			if tt == html.StartTagToken && skippedElements[tag] {
				skip, depth = tag, 1
				continue
			}
			if blockElements[tag] && (tt != html.EndTagToken || !startOnly[tag]) {
				b.WriteByte('\n')
			}
		}
	}
}

// skippedElements have content that is not text for the reader.
var skippedElements = map[string]bool{"script": true, "style": true, "head": true, "title": true, "template": true}

// blockElements start (and, closed, end) a line.
var blockElements = map[string]bool{"br": true, "p": true, "div": true, "li": true, "tr": true, "h1": true, "h2": true,
	"h3": true, "h4": true, "h5": true, "h6": true, "blockquote": true, "hr": true, "ul": true, "ol": true, "table": true, "pre": true}

// startOnly are block elements whose end does not end another line.
var startOnly = map[string]bool{"br": true, "hr": true, "li": true}

// collapseSpaces collapses each line's runs of spaces, which HTML source
// is full of, to one, and trims the lines.
func collapseSpaces(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.Join(lines, "\n")
}
