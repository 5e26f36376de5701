// Package bounces reads what comes back after mail has left: delivery
// status notifications (RFC 3464 and the common non-standard bounces) and
// complaint reports (RFC 5965 ARF). Its mailbox, on the inbound listener,
// marks the outbox message a report is about and puts the address on the
// suppression list (docs/mailing.md, "Bounces and complaints").
package bounces

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"regexp"
	"strings"
	"unicode/utf8"

	outbox "github.com/storekeep/storekeep/internal/mail"
)

// Kind is what a report says happened to a message.
type Kind string

// The kinds of report. NotFailure is a report that asks nothing of us: a
// delay warning, a success notification, a feedback type other than abuse.
const (
	Hard       Kind = "hard"      // a permanent failure (status 5.x.x)
	Soft       Kind = "soft"      // a temporary failure given up on (4.x.x)
	Complaint  Kind = "complaint" // the recipient reported the message as spam
	NotFailure Kind = ""
)

// Formats of report (Report.Format).
const (
	FormatDSN  = "dsn"  // RFC 3464 multipart/report; report-type=delivery-status
	FormatARF  = "arf"  // RFC 5965 message/feedback-report
	FormatText = "text" // a bounce in words, without a machine-readable part
)

// Report is what Parse read from a report.
type Report struct {
	Kind   Kind
	Format string
	// Action is the DSN's per-recipient Action (failed, delayed, ...), or
	// the ARF Feedback-Type.
	Action string
	// Status is the RFC 3463 status code, such as "5.1.1"; empty for a
	// complaint.
	Status string
	// Diagnostic is the remote server's answer, with every word holding
	// an "@" replaced by [address], at most 200 characters.
	Diagnostic string
	// MessageID is the Message-ID of the original message from the
	// returned headers, without angle brackets; empty when none.
	MessageID string
}

// Detail is what the outbox keeps of the report: the status and the
// diagnostic, no address and no message text.
func (r Report) Detail() string {
	d := strings.TrimSpace(r.Status + " " + r.Diagnostic)
	if r.Kind == Complaint {
		d = strings.TrimSpace("feedback-type " + r.Action + " " + d)
	}
	return d
}

// ErrMalformed is the error of a message that is no report Parse can
// read. The error text says why and holds nothing of the message.
var ErrMalformed = errors.New("not a readable delivery or complaint report")

func malformed(why string) error { return errors.Join(ErrMalformed, errors.New(why)) }

// Limits on what Parse reads, so that no report costs much.
const (
	maxParts = 32
	maxDepth = 4
	maxPart  = 1 << 20 // bytes of one part read
	maxText  = 64 << 10
)

// scan is what the walk collected.
type scan struct {
	dsn      []byte // the message/delivery-status part
	feedback []byte // the message/feedback-report part
	headers  []byte // the returned message or its headers
	text     []byte // the first text/plain parts, for a bounce in words
	parts    int
}

// Parse reads a delivery status notification or complaint report.
func Parse(raw []byte) (Report, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Report{}, malformed("the message has no readable header")
	}
	var s scan
	if err := s.walk(textproto(msg.Header), msg.Body, 0); err != nil {
		return Report{}, err
	}
	var r Report
	switch {
	case s.feedback != nil:
		r, err = parseFeedback(s.feedback)
	case s.dsn != nil:
		r, err = parseDSN(s.dsn)
	default:
		r, err = parseText(msg.Header, s.text)
	}
	if err != nil {
		return Report{}, err
	}
	r.MessageID = returnedMessageID(s.headers)
	if r.MessageID == "" && r.Format == FormatText {
		r.MessageID = returnedMessageID(inlineHeaders(s.text))
	}
	return r, nil
}

// header is the part of a MIME header the walk needs.
type header interface{ Get(string) string }

func textproto(h mail.Header) header { return h }

func (s *scan) walk(h header, body io.Reader, depth int) error {
	s.parts++
	if s.parts > maxParts {
		return malformed("too many parts")
	}
	ct := h.Get("Content-Type")
	if ct == "" {
		ct = "text/plain"
	}
	media, params, err := mime.ParseMediaType(ct)
	if err != nil {
		if depth == 0 {
			media = "text/plain"
		} else {
			return nil // an unreadable part of a bigger message: skip it
		}
	}
	if strings.HasPrefix(media, "multipart/") {
		if depth >= maxDepth {
			return malformed("parts nested too deep")
		}
		if params["boundary"] == "" {
			return malformed("a multipart message without a boundary")
		}
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				if s.dsn != nil || s.feedback != nil {
					return nil // the report part is in; a broken tail does not matter
				}
				return malformed("a multipart message broken off")
			}
			if err := s.walk(p.Header, decode(p.Header.Get("Content-Transfer-Encoding"), p), depth+1); err != nil {
				return err
			}
		}
	}
	data, err := io.ReadAll(io.LimitReader(body, maxPart))
	if err != nil {
		data = nil
	}
	switch media {
	case "message/delivery-status", "message/global-delivery-status":
		if s.dsn == nil {
			s.dsn = data
		}
	case "message/feedback-report":
		if s.feedback == nil {
			s.feedback = data
		}
	case "message/rfc822", "message/global", "text/rfc822-headers", "message/rfc822-headers", "message/global-headers":
		if s.headers == nil {
			s.headers = data
		}
	case "text/plain":
		if len(s.text) < maxText {
			s.text = append(s.text, data[:min(len(data), maxText-len(s.text))]...)
			s.text = append(s.text, '\n')
		}
	}
	return nil
}

// decode undoes a part's transfer encoding.
func decode(cte string, r io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, &stripSpace{r: r})
	}
	return r
}

// stripSpace drops line breaks and spaces from base64 text.
type stripSpace struct{ r io.Reader }

func (s *stripSpace) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	j := 0
	for _, c := range p[:n] {
		if c != '\r' && c != '\n' && c != ' ' && c != '\t' {
			p[j] = c
			j++
		}
	}
	return j, err
}

// fieldGroups reads "Name: value" groups separated by blank lines, with
// folded lines unfolded; names lower-cased.
func fieldGroups(b []byte) []map[string]string {
	var groups []map[string]string
	cur := map[string]string{}
	last := ""
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), maxPart)
	flush := func() {
		if len(cur) > 0 {
			groups = append(groups, cur)
		}
		cur, last = map[string]string{}, ""
	}
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		switch {
		case strings.TrimSpace(line) == "":
			flush()
		case (line[0] == ' ' || line[0] == '\t') && last != "":
			cur[last] += " " + strings.TrimSpace(line)
		default:
			name, value, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			last = strings.ToLower(strings.TrimSpace(name))
			if _, dup := cur[last]; !dup {
				cur[last] = strings.TrimSpace(value)
			}
		}
	}
	flush()
	return groups
}

var statusRE = regexp.MustCompile(`\b([245])\.(\d{1,3})\.(\d{1,3})\b`)

// parseDSN reads the per-recipient fields of a delivery-status part. A
// message has one recipient (the outbox sends each message to one), so
// the report's worst failure decides.
func parseDSN(b []byte) (Report, error) {
	groups := fieldGroups(b)
	best := Report{Format: FormatDSN}
	found := false
	for _, g := range groups {
		if g["final-recipient"] == "" && g["action"] == "" {
			continue // the per-message fields
		}
		found = true
		r := Report{Format: FormatDSN, Action: firstWord(g["action"]),
			Status: statusRE.FindString(g["status"]), Diagnostic: scrub(g["diagnostic-code"])}
		if r.Status == "" {
			r.Status = statusRE.FindString(g["diagnostic-code"])
		}
		if r.Action == "failed" {
			switch {
			case strings.HasPrefix(r.Status, "4."):
				r.Kind = Soft
			case strings.HasPrefix(r.Status, "5."), r.Status == "":
				r.Kind = Hard
			}
		}
		if best.Action == "" || rank(r.Kind) > rank(best.Kind) {
			best = r
		}
	}
	if !found {
		return Report{}, malformed("the delivery-status part names no recipient")
	}
	if best.Action == "" {
		return Report{}, malformed("the delivery-status part has no Action")
	}
	return best, nil
}

// firstWord is the first word of a field's value, lower-cased.
func firstWord(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return strings.ToLower(f[0])
	}
	return ""
}

func rank(k Kind) int {
	switch k {
	case Hard:
		return 2
	case Soft:
		return 1
	}
	return 0
}

// parseFeedback reads an ARF report: Feedback-Type abuse is a complaint;
// other types (not-spam, virus, auth-failure) ask nothing of us.
func parseFeedback(b []byte) (Report, error) {
	groups := fieldGroups(b)
	if len(groups) == 0 || groups[0]["feedback-type"] == "" {
		return Report{}, malformed("the feedback report has no Feedback-Type")
	}
	ft := firstWord(groups[0]["feedback-type"])
	r := Report{Format: FormatARF, Action: ft}
	if ft == "abuse" {
		r.Kind = Complaint
	}
	return r, nil
}

var (
	// smtpAnswerRE finds an SMTP refusal in a bounce in words:
	// "said: 550 5.1.1 ...", "Remote Server returned '550 5.1.1 ...'".
	smtpAnswerRE = regexp.MustCompile(`\b([45]\d\d)[ -]+(?:#?([245]\.\d{1,3}\.\d{1,3})\b)?[^\r\n]{0,200}`)
	bounceWords  = regexp.MustCompile(`(?i)undeliver|undelivered|delivery (status notification|has failed|failure|failed)|returned mail|failure notice|mail delivery (failed|system|subsystem)|could not be delivered|couldn't be delivered`)
	mailerDaemon = regexp.MustCompile(`(?i)mailer-daemon|postmaster|microsoftexchange`)
)

// parseText reads a bounce without a delivery-status part, written in
// words by an older or non-standard server (qmail, Exchange's legacy
// NDRs): it must come from a mailer daemon or say it is a bounce, and
// carry an SMTP answer with a 4xx or 5xx code.
func parseText(h mail.Header, text []byte) (Report, error) {
	if !mailerDaemon.MatchString(h.Get("From")) && !bounceWords.MatchString(h.Get("Subject")) {
		return Report{}, malformed("neither a delivery-status part nor a bounce from a mail server")
	}
	m := smtpAnswerRE.FindSubmatch(text)
	if m == nil {
		return Report{}, malformed("a bounce without an SMTP answer in it")
	}
	r := Report{Format: FormatText, Action: "failed", Status: string(m[2]), Diagnostic: scrub(string(m[0]))}
	switch {
	case r.Status != "" && r.Status[0] == '4', r.Status == "" && m[1][0] == '4':
		r.Kind = Soft
	case r.Status != "" && r.Status[0] == '2':
		return Report{}, malformed("a success code in a bounce")
	default:
		r.Kind = Hard
	}
	if r.Status == "" {
		r.Status = string(m[1][0]) + ".0.0"
	}
	return r, nil
}

// returnedMessageID is the Message-ID of the returned message's headers.
func returnedMessageID(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	msg, err := mail.ReadMessage(io.MultiReader(bytes.NewReader(b), strings.NewReader("\r\n\r\n")))
	if err != nil {
		return ""
	}
	id := strings.TrimSpace(msg.Header.Get("Message-Id"))
	id = strings.TrimSuffix(strings.TrimPrefix(id, "<"), ">")
	if !outbox.ValidMessageID(id) {
		return ""
	}
	return id
}

// inlineHeaders finds the returned message's headers quoted in a bounce
// in words: from a "Message-ID:" line to the next blank line.
func inlineHeaders(text []byte) []byte {
	i := bytes.Index(bytes.ToLower(text), []byte("\nmessage-id:"))
	if i < 0 {
		return nil
	}
	rest := text[i+1:]
	if j := bytes.Index(rest, []byte("\n")); j >= 0 {
		rest = rest[:j]
	}
	return bytes.TrimSpace(rest)
}

// scrub keeps a diagnostic free of addresses and short.
func scrub(s string) string {
	words := strings.Fields(s)
	for i, w := range words {
		if strings.Contains(w, "@") {
			words[i] = "[address]"
		}
	}
	out := strings.Join(words, " ")
	if len(out) > 200 {
		out = out[:200]
		for !utf8.ValidString(out) {
			out = out[:len(out)-1]
		}
	}
	return out
}
