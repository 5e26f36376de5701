// Package mailmsg reads one raw inbound email into what the support desk
// keeps of it: the sender and the threading headers, the readable text, the
// HTML made safe to show, the attachments within limits, and the marks of
// automatic mail (auto-replies, delivery reports, spam flags).
//
// It is written for hostile input: every body is read through a limit, the
// MIME parts walked are counted, and nothing in a message makes Parse panic.
// What cannot be decoded is noted in Message.Problems and the rest is kept.
// The package logs nothing.
package mailmsg

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/mail"
	"strings"
	"time"

	_ "github.com/emersion/go-message/charset" // decode the common non-UTF-8 charsets
	"github.com/emersion/go-message/textproto"
)

// Limits bounds what Parse keeps of a message. A zero field takes its
// default.
type Limits struct {
	MaxAttachment  int64 // largest single attachment kept; 0 = 10 MiB
	MaxAttachments int   // how many attachments are kept; 0 = 20
	MaxTextBytes   int   // text kept of the body; 0 = 256 KiB
	MaxParts       int   // MIME parts walked; 0 = 200
}

// Defaults of Limits.
const (
	DefaultMaxAttachment  = 10 << 20
	DefaultMaxAttachments = 20
	DefaultMaxTextBytes   = 256 << 10
	DefaultMaxParts       = 200
)

func (l Limits) withDefaults() Limits {
	if l.MaxAttachment <= 0 {
		l.MaxAttachment = DefaultMaxAttachment
	}
	if l.MaxAttachments <= 0 {
		l.MaxAttachments = DefaultMaxAttachments
	}
	if l.MaxTextBytes <= 0 {
		l.MaxTextBytes = DefaultMaxTextBytes
	}
	if l.MaxParts <= 0 {
		l.MaxParts = DefaultMaxParts
	}
	return l
}

// Fixed bounds that are not worth a setting.
const (
	maxHeaderBytes = 1 << 20 // the top header block
	maxDepth       = 20      // nested multiparts
	maxAddresses   = 100     // kept of each of Reply-To, To and Cc
	maxReferences  = 50      // kept of References
	subjectRunes   = 300
	nameRunes      = 200 // the From display name
	// htmlFactor: the HTML source read is this many times MaxTextBytes, as
	// markup is mostly not text.
	htmlFactor = 4
)

// Message is what Parse reads from one email.
type Message struct {
	From       string   // the one From address, lower-cased
	FromName   string   // its display name, decoded, on one line
	ReplyTo    []string // lower-cased addresses
	To, Cc     []string // lower-cased addresses
	Subject    string   // decoded, on one line, at most 300 characters
	MessageID  string   // without angle brackets; "" if absent or unreadable
	InReplyTo  []string // message IDs without angle brackets
	References []string // message IDs without angle brackets, in order: the first and the last 49
	Date       time.Time

	AutoSubmitted string // the Auto-Submitted keyword, lower-cased; "" if absent
	Precedence    string // lower-cased: bulk, list, junk, auto_reply, ...
	ListID        string // the list's identifier from List-Id, without angle brackets
	// AutoReply is set for mail sent by a program rather than a person:
	// auto-replies, out-of-office notices, list and bulk mail.
	AutoReply bool
	// AutoReason names the header that set AutoReply, as "Header: value".
	AutoReason string
	// Report is set for delivery reports, feedback (abuse) reports and read
	// receipts: a multipart/report, or a message/delivery-status message.
	Report     bool
	ReportType string // the report-type: "delivery-status", "feedback-report", "disposition-notification", ...
	Spam       Spam

	// Text is the readable text: the first text/plain body part (later
	// text/plain body parts outside a multipart/alternative are appended),
	// else the HTML part reduced to text. Valid UTF-8, lines end in "\n",
	// no control characters but "\n" and "\t", at most MaxTextBytes.
	Text string
	// HTML is the HTML body sanitised for showing to staff (no scripts,
	// styles, forms or images; links open in a new tab with
	// rel="nofollow noopener noreferrer"): safe as a template.HTML. "" when
	// the message has no HTML body.
	HTML string

	Attachments []Attachment // files kept
	Skipped     []Skipped    // files not kept, with the reason
	// Problems says, in plain words, what could not be decoded. They never
	// make Parse fail. They hold no addresses and no content of the mail.
	Problems []string
}

// Spam is the verdict of the receiving mail server's spam filter, read from
// the headers SpamAssassin and rspamd add.
type Spam struct {
	Flagged bool
	Reason  string // the header that flagged it, as "Header: value"
}

// Attachment is a file kept from the message. ContentType is what the
// sender declared (or, without one, what the data looks like): it is never
// to be trusted for rendering.
type Attachment struct {
	Filename    string // a safe base name
	ContentType string // lower-case type/subtype
	Size        int64
	Data        []byte
	Inline      bool   // Content-Disposition: inline
	ContentID   string // without angle brackets
}

// Skipped is a file of the message that was not kept.
type Skipped struct {
	Filename    string
	ContentType string
	Size        int64 // its decoded size, as far as it was read
	Reason      string
}

// Reasons Parse refuses a message.
var (
	ErrBadHeader = errors.New("the message header cannot be read")
	ErrNoFrom    = errors.New("the message has no From address")
	ErrManyFrom  = errors.New("the message has more than one From address")
	ErrBadFrom   = errors.New("the From address is not a usable email address")
)

// Parse reads one raw message. It fails only when the header cannot be read
// or the message lacks exactly one usable From address; anything wrong in
// the body is noted in Problems and the rest is kept.
func Parse(raw []byte, lim Limits) (*Message, error) {
	lim = lim.withDefaults()
	raw = skipEnvelopeLine(raw)
	// The header is read through a limit; the body is what the buffered
	// reader holds followed by the rest of raw.
	r := bytes.NewReader(raw)
	lr := &io.LimitedReader{R: r, N: maxHeaderBytes}
	br := bufio.NewReader(lr)
	th, err := textproto.ReadHeader(br)
	// A message that ends after its header (no blank line) ends in io.EOF;
	// a header larger than the limit ends there too, and is refused.
	if err != nil && err != io.EOF || th.Len() == 0 || lr.N == 0 {
		return nil, ErrBadHeader
	}
	body := io.MultiReader(br, r)

	h := header{th}
	m := &Message{}
	if err := m.readFrom(h); err != nil {
		return nil, err
	}
	m.readHeaders(h)
	w := walker{m: m, lim: lim}
	w.top(h, body)
	w.finish()
	return m, nil
}

// skipEnvelopeLine drops the mbox "From sender date" line a pipe transport
// may put before the header (Postfix pipe's F flag).
func skipEnvelopeLine(raw []byte) []byte {
	if !bytes.HasPrefix(raw, []byte("From ")) {
		return raw
	}
	if i := bytes.IndexByte(raw, '\n'); i >= 0 {
		return raw[i+1:]
	}
	return nil
}

// readFrom sets From and FromName, or says why it cannot.
func (m *Message) readFrom(h header) error {
	values := h.Values("From")
	switch {
	case len(values) == 0 || strings.TrimSpace(strings.Join(values, "")) == "":
		return ErrNoFrom
	case len(values) > 1:
		return ErrManyFrom
	}
	addrs, err := parseAddressList(values[0])
	if err != nil {
		// net/mail refuses some display names real clients write (an
		// unquoted comma, a stray quote): a lone <address> still says
		// who sent it.
		a, ok := lenientAddress(values[0])
		if !ok {
			return ErrBadFrom
		}
		addrs = []*mail.Address{a}
	}
	switch {
	case len(addrs) == 0:
		return ErrNoFrom
	case len(addrs) > 1:
		return ErrManyFrom
	}
	from, ok := normaliseAddress(addrs[0].Address)
	if !ok {
		return ErrBadFrom
	}
	m.From = from
	m.FromName = truncateRunes(oneLine(addrs[0].Name), nameRunes)
	return nil
}

// readHeaders reads everything but From and the body.
func (m *Message) readHeaders(h header) {
	m.ReplyTo = m.addressList(h, "Reply-To")
	m.To = m.addressList(h, "To")
	m.Cc = m.addressList(h, "Cc")

	m.Subject = truncateRunes(oneLine(m.decodeText(h, "Subject")), subjectRunes)
	if ids := msgIDs(h.Get("Message-Id")); len(ids) > 0 {
		m.MessageID = ids[0]
	}
	m.InReplyTo = msgIDs(h.Get("In-Reply-To"))
	if len(m.InReplyTo) > maxReferences {
		m.InReplyTo = m.InReplyTo[:maxReferences]
	}
	m.References = capReferences(msgIDs(strings.Join(h.Values("References"), " ")))
	if d := strings.TrimSpace(h.Get("Date")); d != "" {
		if t, err := mail.ParseDate(d); err == nil {
			m.Date = t
		} else {
			m.problem("the Date header cannot be read")
		}
	}

	m.AutoSubmitted = firstToken(h.Get("Auto-Submitted"))
	m.Precedence = firstToken(h.Get("Precedence"))
	m.ListID = listID(h.Get("List-Id"))
	m.AutoReply, m.AutoReason = autoReply(h)
	m.Spam = spam(h)
}

// addressList reads an address header, keeping the usable addresses.
func (m *Message) addressList(h header, key string) []string {
	v := strings.Join(h.Values(key), ", ")
	if strings.TrimSpace(v) == "" {
		return nil
	}
	addrs, err := parseAddressList(v)
	if err != nil {
		m.problem("the " + key + " header cannot be read")
		return nil
	}
	var out []string
	bad := false
	for _, a := range addrs {
		s, ok := normaliseAddress(a.Address)
		if !ok {
			bad = true
			continue
		}
		if len(out) == maxAddresses {
			m.problem("the " + key + " header has more addresses than are kept")
			break
		}
		out = append(out, s)
	}
	if bad {
		m.problem("the " + key + " header has an address that is not usable")
	}
	return out
}

// decodeText decodes an RFC 2047 header; with an unknown charset it keeps
// the raw value and notes it.
func (m *Message) decodeText(h header, key string) string {
	v := h.Get(key)
	s, err := decodeWords(v)
	if err != nil {
		m.problem("the " + key + " header uses a charset that cannot be decoded")
		return v
	}
	return s
}

// problem notes a problem once.
func (m *Message) problem(s string) {
	for _, p := range m.Problems {
		if p == s {
			return
		}
	}
	if len(m.Problems) < 50 {
		m.Problems = append(m.Problems, s)
	}
}

// header is a message or part header.
type header struct{ textproto.Header }
