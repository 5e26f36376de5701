package mailmsg

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/textproto"
	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding/charmap"
)

// Reasons a file is not kept (Skipped.Reason).
const (
	ReasonTooLarge = "larger than the limit for one attachment"
	ReasonTooMany  = "more attachments than are kept"
	ReasonRefused  = "refused: a program or script"
)

// walker walks a message's MIME tree once, in order.
type walker struct {
	m     *Message
	lim   Limits
	parts int    // entities seen
	files int    // files seen, kept or not: numbers unnamed ones
	plain []byte // text/plain body parts, decoded
	html  []byte // text/html body parts, decoded
	stop  bool   // MaxParts reached
}

// altState is shared by the parts of one multipart/alternative: only its
// first plain and first HTML part are the body.
type altState struct{ plain, html bool }

func (w *walker) top(h header, body io.Reader) {
	switch ct, params := contentType(h); ct {
	case "multipart/report":
		w.m.Report = true
		w.m.ReportType = firstToken(params["report-type"])
	case "message/delivery-status":
		w.m.Report = true
		w.m.ReportType = "delivery-status"
	}
	w.entity(h, body, 0, nil, false)
}

// entity reads one MIME entity: a multipart is walked, a leaf is body text
// or a file.
func (w *walker) entity(h header, body io.Reader, depth int, alt *altState, encrypted bool) {
	if w.stop {
		return
	}
	if w.parts++; w.parts > w.lim.MaxParts {
		w.stop = true
		w.m.problem("the message has more MIME parts than are read: the rest is only in the raw message")
		return
	}
	ct, params := contentType(h)
	if strings.HasPrefix(ct, "multipart/") {
		boundary := params["boundary"]
		switch {
		case boundary == "":
			w.m.problem("a multipart part has no boundary: it is read as text")
			ct = "text/plain"
		case depth >= maxDepth:
			w.m.problem("the MIME parts are nested too deep: the inner ones are only in the raw message")
			return
		default:
			w.multipart(ct, boundary, body, depth, alt, encrypted)
			return
		}
	}
	disp, dparams := contentDisposition(h)
	name := rawFilename(dparams, params)
	isFile := disp == "attachment" || name != "" || encrypted
	switch {
	case ct == "text/plain" && !isFile:
		if alt != nil && alt.plain {
			return // another rendering of the same text
		}
		if alt != nil {
			alt.plain = true
		}
		w.bodyText(h, ct, params, body)
	case ct == "text/html" && !isFile:
		if alt != nil && alt.html {
			return
		}
		if alt != nil {
			alt.html = true
		}
		w.bodyText(h, ct, params, body)
	default:
		// Files, including the text/calendar of an invitation, a nested
		// message/rfc822 (never walked into: its text is not this
		// message's), signatures, and the parts of an encrypted message.
		w.file(h, ct, disp, name, body)
	}
}

func (w *walker) multipart(ct, boundary string, body io.Reader, depth int, alt *altState, encrypted bool) {
	switch ct {
	case "multipart/alternative":
		alt = &altState{}
	case "multipart/encrypted":
		encrypted = true
		w.m.problem("encrypted message: read the raw message")
	}
	mr := textproto.NewMultipartReader(body, boundary)
	for n := 0; !w.stop; n++ {
		p, err := mr.NextPart()
		switch {
		case err != nil && n == 0:
			w.m.problem("a multipart part has no parts: its boundary never appears")
			return
		case err == io.EOF:
			return
		case err != nil:
			w.m.problem("the MIME structure is broken (a missing or damaged boundary): kept what came before")
			return
		}
		w.entity(header{p.Header}, p, depth+1, alt, encrypted)
	}
}

// bodyText reads a text/plain or text/html body part.
func (w *walker) bodyText(h header, ct string, params map[string]string, body io.Reader) {
	limit := int64(w.lim.MaxTextBytes) + 1
	if ct == "text/html" {
		limit = int64(w.lim.MaxTextBytes)*htmlFactor + 1
	}
	// The transfer encoding is undone first and the limit taken there, so
	// a charset that grows the text cannot read past it unbounded.
	b, err := io.ReadAll(io.LimitReader(w.decoder(h, body), limit))
	w.readProblem(err, "a text part")
	if int64(len(b)) == limit {
		b = b[:limit-1]
		w.m.problem("a text part is longer than is read: the rest is only in the raw message")
	}
	b = w.toUTF8(b, ct, params["charset"])
	if ct == "text/plain" {
		if strings.EqualFold(params["format"], "flowed") {
			b = []byte(decodeFlowed(string(b), strings.EqualFold(params["delsp"], "yes")))
		}
		if bytes.Contains(b, []byte("-----BEGIN PGP MESSAGE-----")) {
			w.m.problem("the text holds an inline PGP encrypted message: read the raw message")
		}
		if len(w.plain) > 0 {
			w.plain = append(w.plain, '\n')
		}
		w.plain = append(w.plain, b...)
		return
	}
	if len(w.html) > 0 {
		w.html = append(w.html, '\n')
	}
	w.html = append(w.html, b...)
}

// toUTF8 converts a text part to UTF-8. Without a declared charset, text
// that is not UTF-8 is taken as HTML's meta charset says or as
// windows-1252, what such mail almost always is.
func (w *walker) toUTF8(b []byte, ct, cs string) []byte {
	cs = strings.ToLower(strings.TrimSpace(cs))
	switch cs {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return b
	case "":
		if utf8.Valid(b) {
			return b
		}
		if ct == "text/html" {
			if enc, _, _ := charset.DetermineEncoding(b, "text/html"); enc != nil {
				if out, err := enc.NewDecoder().Bytes(b); err == nil {
					return out
				}
			}
		}
		if out, err := charmap.Windows1252.NewDecoder().Bytes(b); err == nil {
			return out
		}
		return b
	}
	if message.CharsetReader == nil {
		return b
	}
	r, err := message.CharsetReader(cs, bytes.NewReader(b))
	if err != nil || r == nil {
		w.m.problem("a text part has an unknown charset (" + truncateRunes(oneLine(cs), 40) + "): it is shown undecoded")
		return b
	}
	out, err := io.ReadAll(r)
	if err != nil {
		w.m.problem("a text part could not be fully converted from its charset (" + truncateRunes(oneLine(cs), 40) + ")")
	}
	return out
}

// file keeps an attachment or says why not.
func (w *walker) file(h header, ct, disp, rawName string, body io.Reader) {
	w.files++
	if ct == "application/pkcs7-mime" || ct == "application/x-pkcs7-mime" {
		// S/MIME enveloped (encrypted) or opaque-signed: the text is
		// inside the PKCS #7 structure.
		w.m.problem("S/MIME encrypted or opaque-signed message: read the raw message")
	}
	name := safeFilename(rawName, w.files, ct)
	declared := ct
	dec := w.decoder(h, body)
	skip := func(reason string, size int64) {
		n, _ := io.Copy(io.Discard, dec)
		w.m.Skipped = append(w.m.Skipped, Skipped{Filename: name, ContentType: declared, Size: size + n, Reason: reason})
	}
	if refusedName(name) || refusedType(declared) {
		skip(ReasonRefused, 0)
		return
	}
	if len(w.m.Attachments) >= w.lim.MaxAttachments {
		skip(ReasonTooMany, 0)
		return
	}
	data, err := io.ReadAll(io.LimitReader(dec, w.lim.MaxAttachment+1))
	if int64(len(data)) > w.lim.MaxAttachment {
		skip(ReasonTooLarge, int64(len(data)))
		return
	}
	w.readProblem(err, "an attachment")
	if executable(data) {
		w.m.Skipped = append(w.m.Skipped, Skipped{Filename: name, ContentType: declared, Size: int64(len(data)), Reason: ReasonRefused})
		return
	}
	if declared == "" {
		declared = sniff(data)
	}
	w.m.Attachments = append(w.m.Attachments, Attachment{
		Filename:    name,
		ContentType: declared,
		Size:        int64(len(data)),
		Data:        data,
		Inline:      disp == "inline",
		ContentID:   contentID(h.Get("Content-Id")),
	})
}

// decoder undoes the part's Content-Transfer-Encoding, leniently.
func (w *walker) decoder(h header, body io.Reader) io.Reader {
	switch enc := strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding"))); enc {
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, &base64Filter{r: body})
	case "quoted-printable":
		return quotedprintable.NewReader(body)
	case "", "7bit", "8bit", "binary":
		return body
	default:
		w.m.problem("a part has an unknown transfer encoding: it is kept undecoded")
		return body
	}
}

// readProblem notes why reading a part stopped early.
func (w *walker) readProblem(err error, what string) {
	var corrupt base64.CorruptInputError
	switch {
	case err == nil:
	case errors.Is(err, io.ErrUnexpectedEOF):
		w.m.problem("the message ends inside a MIME part (truncated, or no closing boundary): " + what + " may be incomplete")
	case errors.As(err, &corrupt):
		w.m.problem(what + " has damaged base64: kept what could be decoded")
	default:
		w.m.problem(what + " could not be fully decoded: kept what could be read")
	}
}

// finish sets Text and HTML from the body parts read.
func (w *walker) finish() {
	m := w.m
	if len(w.html) > 0 {
		m.HTML = sanitizeHTML(string(w.html))
	}
	text := string(w.plain)
	if strings.TrimSpace(text) == "" && len(w.html) > 0 {
		text = htmlToText(string(w.html))
	}
	text = cleanText(text)
	if len(text) > w.lim.MaxTextBytes {
		text = cutUTF8(text, w.lim.MaxTextBytes)
		m.problem("the text is longer than is kept: the rest is only in the raw message")
	}
	m.Text = text
}

// base64Filter passes only the base64 alphabet, so line breaks, stray
// spaces and other junk between the lines do not stop the decoder.
type base64Filter struct{ r io.Reader }

func (f *base64Filter) Read(p []byte) (int, error) {
	for {
		n, err := f.r.Read(p)
		j := 0
		for _, c := range p[:n] {
			if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=' {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

// contentType reads a Content-Type leniently: type/subtype in lower case,
// "text/plain" when missing or unreadable (RFC 2045's default).
func contentType(h header) (string, map[string]string) {
	v := h.Get("Content-Type")
	if strings.TrimSpace(v) == "" {
		return "text/plain", map[string]string{}
	}
	t, params := parseParams(v)
	if !validType(t) {
		return "text/plain", params
	}
	return t, params
}

// contentDisposition reads a Content-Disposition leniently.
func contentDisposition(h header) (string, map[string]string) {
	v := h.Get("Content-Disposition")
	if strings.TrimSpace(v) == "" {
		return "", map[string]string{}
	}
	return parseParams(v)
}

// parseParams parses "value; k=v; ..." with mime.ParseMediaType (RFC 2231
// included) and, where that refuses the parameters, by splitting them.
func parseParams(v string) (string, map[string]string) {
	t, params, err := mime.ParseMediaType(v)
	if err != nil {
		t = strings.ToLower(strings.TrimSpace(strings.SplitN(v, ";", 2)[0]))
		params = lenientParams(v)
	}
	if params == nil {
		params = map[string]string{}
	}
	return t, params
}

// lenientParams splits "x; a=1; b="two words"" into its parameters.
func lenientParams(v string) map[string]string {
	params := map[string]string{}
	parts := strings.Split(v, ";")
	for _, p := range parts[1:] {
		k, val, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		val = strings.TrimSpace(val)
		val = strings.TrimSuffix(strings.TrimPrefix(val, `"`), `"`)
		if k != "" && params[k] == "" {
			params[k] = val
		}
	}
	return params
}

// validType accepts "type/subtype" of token characters.
func validType(t string) bool {
	a, b, ok := strings.Cut(t, "/")
	return ok && isToken(a) && isToken(b)
}

func isToken(s string) bool {
	if s == "" || len(s) > 127 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?=`, c) >= 0 {
			return false
		}
	}
	return true
}

// rawFilename is the file's name as sent: Content-Disposition's filename,
// else Content-Type's name, with RFC 2047 words decoded (RFC 2231 is
// decoded by mime.ParseMediaType).
func rawFilename(dparams, params map[string]string) string {
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	if d, err := decodeWords(name); err == nil {
		name = d
	}
	return name
}

// contentID is a Content-ID without its angle brackets.
func contentID(v string) string {
	if ids := msgIDs(v); len(ids) > 0 {
		return ids[0]
	}
	return ""
}
